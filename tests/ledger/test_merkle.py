"""Tests for the RFC 9162 Merkle tree in ledger.merkle."""

from __future__ import annotations

import hashlib

import pytest

from ledger.merkle import (
    EMPTY_ROOT,
    Frontier,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root_from_leaves,
    verify_consistency,
    verify_inclusion,
)

# The leaf inputs used by the RFC 6962 reference test vectors in Certificate Transparency code.
RFC6962_INPUTS = [
    b"",
    b"\x00",
    b"\x10",
    b"\x20\x21",
    b"\x30\x31",
    b"\x40\x41\x42\x43",
    b"\x50\x51\x52\x53\x54\x55\x56\x57",
    b"\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f",
]
RFC6962_ROOT_8 = "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"
RFC6962_ROOT_1_PREFIX = "6e340b9cff"


def naive_mth(data: list[bytes]) -> bytes:
    """Compute MTH straight from the RFC 9162 recursive definition, as an independent oracle."""
    n = len(data)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return hashlib.sha256(b"\x00" + data[0]).digest()
    k = 1
    while k * 2 < n:
        k *= 2
    return hashlib.sha256(b"\x01" + naive_mth(data[:k]) + naive_mth(data[k:])).digest()


def make_leaves(n: int) -> list[bytes]:
    return [leaf_hash(i.to_bytes(4, "big")) for i in range(n)]


def flip_byte(proof: list[bytes], which: int) -> list[bytes]:
    tampered = list(proof)
    node = bytearray(tampered[which])
    node[0] ^= 0x01
    tampered[which] = bytes(node)
    return tampered


def test_empty_root_is_sha256_of_empty_string() -> None:
    # given / when
    root = root_from_leaves([])
    # then
    assert root == EMPTY_ROOT == hashlib.sha256(b"").digest()


def test_leaf_and_node_hashes_use_domain_separation_prefixes() -> None:
    # given
    a, b = b"a" * 32, b"b" * 32
    # when / then
    assert leaf_hash(b"x") == hashlib.sha256(b"\x00x").digest()
    assert node_hash(a, b) == hashlib.sha256(b"\x01" + a + b).digest()


def test_root_of_all_eight_rfc6962_vectors_matches_published_hex() -> None:
    # given
    leaves = [leaf_hash(d) for d in RFC6962_INPUTS]
    # when
    root = root_from_leaves(leaves)
    # then
    assert root.hex() == RFC6962_ROOT_8
    assert naive_mth(RFC6962_INPUTS).hex() == RFC6962_ROOT_8


def test_root_of_first_rfc6962_vector_matches_published_prefix() -> None:
    # given
    leaves = [leaf_hash(RFC6962_INPUTS[0])]
    # when
    root = root_from_leaves(leaves)
    # then
    assert root.hex().startswith(RFC6962_ROOT_1_PREFIX)


@pytest.mark.parametrize("n", range(len(RFC6962_INPUTS) + 1))
def test_root_of_every_rfc6962_prefix_matches_naive_recursive_mth(n: int) -> None:
    # given
    data = RFC6962_INPUTS[:n]
    # when
    root = root_from_leaves([leaf_hash(d) for d in data])
    # then
    assert root == naive_mth(data)


def test_frontier_root_equals_root_from_leaves_for_every_size_up_to_70() -> None:
    # given
    leaves = make_leaves(70)
    frontier = Frontier()
    assert frontier.root() == EMPTY_ROOT
    for size in range(1, 71):
        # when
        frontier.append(leaves[size - 1])
        # then
        assert frontier.size == size
        assert len(frontier.to_json()) == size.bit_count()
        assert frontier.root() == root_from_leaves(leaves[:size])


def test_frontier_json_round_trip_preserves_root_and_later_appends() -> None:
    # given
    leaves = make_leaves(45)
    frontier = Frontier()
    for leaf in leaves[:37]:
        frontier.append(leaf)
    # when
    restored = Frontier.from_json(frontier.size, frontier.to_json())
    for leaf in leaves[37:]:
        restored.append(leaf)
    # then
    assert restored.size == 45
    assert all(isinstance(h, str) for h in frontier.to_json())
    assert restored.root() == root_from_leaves(leaves)


@pytest.mark.parametrize(("size", "count"), [(0, 1), (1, 0), (5, 1), (5, 3), (8, 2), (7, 2)])
def test_frontier_rejects_hash_count_that_is_not_popcount_of_size(size: int, count: int) -> None:
    # given
    hashes = [b"\x00" * 32] * count
    # when / then
    with pytest.raises(ValueError):
        Frontier(size, hashes)


def test_every_inclusion_proof_for_sizes_1_to_33_verifies() -> None:
    for size in range(1, 34):
        # given
        leaves = make_leaves(size)
        root = naive_mth([i.to_bytes(4, "big") for i in range(size)])
        for index in range(size):
            # when
            proof = inclusion_proof(index, leaves)
            # then
            assert verify_inclusion(index, size, leaves[index], proof, root), (index, size)


def test_tampered_inclusion_proofs_fail_verification() -> None:
    for size in range(1, 34):
        # given
        leaves = make_leaves(size)
        root = root_from_leaves(leaves)
        for index in range(size):
            proof = inclusion_proof(index, leaves)
            leaf = leaves[index]
            # when / then
            for which in range(len(proof)):
                assert not verify_inclusion(index, size, leaf, flip_byte(proof, which), root)
            other = (index + 1) % size
            if other != index:
                assert not verify_inclusion(other, size, leaf, proof, root)
            assert not verify_inclusion(index, size, leaf_hash(b"forged"), proof, root)
            assert not verify_inclusion(index, size, leaf, [*proof, leaf], root)
            if proof:
                assert not verify_inclusion(index, size, leaf, proof[:-1], root)


def test_inclusion_verification_returns_false_for_index_outside_tree() -> None:
    # given
    leaves = make_leaves(5)
    root = root_from_leaves(leaves)
    proof = inclusion_proof(4, leaves)
    # when / then
    assert not verify_inclusion(5, 5, leaves[4], proof, root)
    assert not verify_inclusion(-1, 5, leaves[4], proof, root)
    assert not verify_inclusion(0, 0, leaves[0], [], EMPTY_ROOT)


@pytest.mark.parametrize("index", [-1, 3, 10])
def test_inclusion_proof_raises_index_error_when_out_of_range(index: int) -> None:
    # given
    leaves = make_leaves(3)
    # when / then
    with pytest.raises(IndexError):
        inclusion_proof(index, leaves)


def test_every_consistency_proof_up_to_size_20_verifies() -> None:
    for new_size in range(1, 21):
        # given
        leaves = make_leaves(new_size)
        new_root = naive_mth([i.to_bytes(4, "big") for i in range(new_size)])
        for old_size in range(1, new_size + 1):
            old_root = root_from_leaves(leaves[:old_size])
            # when
            proof = consistency_proof(old_size, leaves)
            # then
            assert verify_consistency(old_size, new_size, old_root, new_root, proof), (
                old_size,
                new_size,
            )


def test_tampered_consistency_proofs_fail_verification() -> None:
    for new_size in range(1, 21):
        # given
        leaves = make_leaves(new_size)
        new_root = root_from_leaves(leaves)
        forged = leaf_hash(b"forged")
        for old_size in range(1, new_size + 1):
            old_root = root_from_leaves(leaves[:old_size])
            proof = consistency_proof(old_size, leaves)
            # when / then
            for which in range(len(proof)):
                tampered = flip_byte(proof, which)
                assert not verify_consistency(old_size, new_size, old_root, new_root, tampered)
            assert not verify_consistency(old_size, new_size, forged, new_root, proof)
            assert not verify_consistency(old_size, new_size, old_root, forged, proof)
            assert not verify_consistency(old_size, new_size, old_root, new_root, [*proof, forged])
            if proof:
                assert not verify_consistency(old_size, new_size, old_root, new_root, proof[:-1])
            if old_size < new_size:
                assert not verify_consistency(old_size + 1, new_size, old_root, new_root, proof)


def test_consistency_from_the_empty_tree_needs_an_empty_proof() -> None:
    # given
    leaves = make_leaves(4)
    new_root = root_from_leaves(leaves)
    # when
    proof = consistency_proof(0, leaves)
    # then
    assert proof == []
    assert verify_consistency(0, 4, EMPTY_ROOT, new_root, proof)
    assert not verify_consistency(0, 4, EMPTY_ROOT, new_root, [new_root])


def test_consistency_verification_returns_false_when_old_size_exceeds_new_size() -> None:
    # given
    leaves = make_leaves(4)
    root = root_from_leaves(leaves)
    # when / then
    assert not verify_consistency(5, 4, root, root, [])


def test_consistency_proof_rejects_old_size_larger_than_tree() -> None:
    # given
    leaves = make_leaves(4)
    # when / then
    with pytest.raises(ValueError):
        consistency_proof(5, leaves)
