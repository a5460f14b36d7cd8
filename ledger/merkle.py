"""RFC 9162 (Certificate Transparency v2) Merkle tree over SHA-256.

The tree, hashes and proofs are bit-for-bit those of RFC 6962, so any CT tooling can check them.
All functions that take ``leaf_hashes`` expect values already passed through :func:`leaf_hash`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence

#: The hash of the leaves ``[lo, hi)`` of a tree, however it is stored (``tiles`` reads it).
SubtreeHash = Callable[[int, int], bytes]

# Distinct prefixes stop a leaf from being passed off as an interior node (second preimage).
LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"


def leaf_hash(data: bytes) -> bytes:
    """Return the leaf hash SHA-256(0x00 || data)."""
    return hashlib.sha256(LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Return the interior node hash SHA-256(0x01 || left || right)."""
    return hashlib.sha256(NODE_PREFIX + left + right).digest()


EMPTY_ROOT: bytes = hashlib.sha256(b"").digest()


def _split(n: int) -> int:
    """Return the largest power of two strictly less than ``n`` (``n`` >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def root_from_leaves(leaf_hashes: Sequence[bytes]) -> bytes:
    """Return MTH(D[n]) of RFC 9162 section 2.1.1 for the given leaf hashes."""
    if not leaf_hashes:
        return EMPTY_ROOT
    level = list(leaf_hashes)
    while len(level) > 1:
        paired = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        # Carrying an odd last node up unchanged gives exactly the split-at-largest-power-of-two
        # shape of the RFC, without recursion.
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0]


class Frontier:
    """The compact right edge of a Merkle tree: enough state to append and compute the root.

    ``hashes`` holds the roots of the perfect subtrees that make up the tree, largest (leftmost)
    first, one per set bit of ``size``; so an append costs O(log n) and needs no earlier leaves.
    """

    size: int

    def __init__(self, size: int = 0, hashes: Sequence[bytes] = ()) -> None:
        """Build a frontier for a tree of ``size`` leaves from its perfect-subtree roots."""
        if size < 0:
            raise ValueError(f"size must be non-negative, got {size}")
        if len(hashes) != size.bit_count():
            raise ValueError(
                f"a tree of size {size} needs {size.bit_count()} subtree hashes, got {len(hashes)}"
            )
        if any(len(h) != hashlib.sha256().digest_size for h in hashes):
            raise ValueError("every subtree hash must be a 32-byte SHA-256 digest")
        self.size = size
        self._hashes: list[bytes] = [bytes(h) for h in hashes]

    def append(self, leaf: bytes) -> None:
        """Append one leaf hash, merging the perfect subtrees it completes."""
        carry, size = leaf, self.size
        # Each trailing set bit of size is a same-height subtree the new leaf completes, like
        # a carry in binary addition.
        while size & 1:
            carry = node_hash(self._hashes.pop(), carry)
            size >>= 1
        self._hashes.append(carry)
        self.size += 1

    def append_nodes(self, leaf: bytes) -> list[tuple[int, int, bytes]]:
        """Append one leaf hash and return the perfect subtrees it completes, as (level, index
        at that level, hash), the leaf itself first: what a tile store keeps."""
        index = self.size
        completed = [(0, index, leaf)]
        carry, size, level = leaf, self.size, 0
        while size & 1:
            carry = node_hash(self._hashes.pop(), carry)
            size >>= 1
            level += 1
            completed.append((level, index >> level, carry))
        self._hashes.append(carry)
        self.size += 1
        return completed

    def root(self) -> bytes:
        """Return the Merkle tree hash of all leaves appended so far (EMPTY_ROOT when empty)."""
        if not self._hashes:
            return EMPTY_ROOT
        # Folding from the right mirrors the RFC's recursion, which always splits off the
        # largest perfect subtree on the left.
        root = self._hashes[-1]
        for h in reversed(self._hashes[:-1]):
            root = node_hash(h, root)
        return root

    def to_json(self) -> list[str]:
        """Return the subtree hashes as hex strings, largest first (store ``size`` alongside)."""
        return [h.hex() for h in self._hashes]

    @classmethod
    def from_json(cls, size: int, hashes: Sequence[str]) -> Frontier:
        """Rebuild a frontier from ``size`` and the hex strings produced by :meth:`to_json`."""
        return cls(size, [bytes.fromhex(h) for h in hashes])


def _over(leaf_hashes: Sequence[bytes]) -> SubtreeHash:
    return lambda lo, hi: root_from_leaves(leaf_hashes[lo:hi])


def inclusion_proof(index: int, leaf_hashes: Sequence[bytes]) -> list[bytes]:
    """Return the audit path PATH(m, D[n]) of RFC 9162 section 2.1.3.1, leaf end first."""
    return inclusion_proof_over(index, len(leaf_hashes), _over(leaf_hashes))


def inclusion_proof_over(index: int, n: int, subtree: SubtreeHash) -> list[bytes]:
    """The audit path of leaf ``index`` in the tree of ``n`` leaves, reading each sibling
    subtree's hash from ``subtree`` (so a tile store answers it in O(log n) reads)."""
    if not 0 <= index < n:
        raise IndexError(f"leaf index {index} out of range for tree of size {n}")
    siblings: list[bytes] = []
    lo, hi = 0, n
    # Walking down from the root collects siblings top-first; each sibling subtree is hashed once
    # and they halve in size, so the whole proof costs O(n).
    while hi - lo > 1:
        mid = lo + _split(hi - lo)
        if index < mid:
            siblings.append(subtree(mid, hi))
            hi = mid
        else:
            siblings.append(subtree(lo, mid))
            lo = mid
    siblings.reverse()
    return siblings


def verify_inclusion(
    index: int, size: int, leaf: bytes, proof: Sequence[bytes], root: bytes
) -> bool:
    """Check an audit path with the algorithm of RFC 9162 section 2.1.3.2; never raises."""
    if not 0 <= index < size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            # A right-edge node with no right sibling is promoted; skip the levels it rises through.
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def consistency_proof(old_size: int, leaf_hashes: Sequence[bytes]) -> list[bytes]:
    """Return PROOF(m, D[n]) of RFC 9162 section 2.1.4.1; empty when m is 0 or n."""
    return consistency_proof_over(old_size, len(leaf_hashes), _over(leaf_hashes))


def consistency_proof_over(old_size: int, n: int, subtree: SubtreeHash) -> list[bytes]:
    """PROOF(old_size, D[n]), reading subtree hashes from ``subtree``."""
    if not 0 <= old_size <= n:
        raise ValueError(f"old size {old_size} out of range for tree of size {n}")
    if old_size == 0:
        # The empty tree is a prefix of every tree, so there is nothing to prove.
        return []
    nodes: list[bytes] = []
    m, lo, hi, whole = old_size, 0, n, True
    while m != hi - lo:
        k = _split(hi - lo)
        if m <= k:
            nodes.append(subtree(lo + k, hi))
            hi = lo + k
        else:
            nodes.append(subtree(lo, lo + k))
            lo, m, whole = lo + k, m - k, False
    # The old tree's root is only needed when the verifier cannot already derive it from old_root,
    # that is when the old tree is not itself a complete subtree here (b is false).
    if not whole:
        nodes.append(subtree(lo, hi))
    nodes.reverse()
    return nodes


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """Check a consistency proof with the algorithm of RFC 9162 section 2.1.4.2; never raises."""
    if not 0 <= old_size <= new_size:
        return False
    if old_size == 0:
        return not proof and old_root == EMPTY_ROOT
    if old_size == new_size:
        return not proof and old_root == new_root
    if not proof:
        return False
    path = list(proof)
    # A power-of-two old tree is a complete subtree of the new one, so the proof omits its root.
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == old_root and sr == new_root
