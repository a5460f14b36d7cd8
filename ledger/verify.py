"""Recompute the embedded ledger from its log and name whatever does not match."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from cryptography.exceptions import InvalidSignature

from ledger import leaves, log, merkle
from ledger.embedded import GENESIS_HASH, EmbeddedLedger, entry_content, tree_head_message
from ledger.models import (
    KeyModification,
    LedgerCheckpoint,
    LedgerEntry,
    LedgerHead,
    LedgerTile,
    WorldState,
)
from ledger.notes import NoteError

CHUNK = 2000


@dataclass(frozen=True)
class Problem:
    where: str
    detail: str

    def __str__(self) -> str:
        return f"{self.where}: {self.detail}"


@dataclass
class Replay:
    """What the log says, recomputed from scratch."""

    size: int = 0
    root: str = merkle.EMPTY_ROOT.hex()
    state: dict[str, tuple[str, int]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    def change(self, change_id: str) -> dict[str, Any] | None:
        value = self.state.get(f"change:{change_id}")
        return json.loads(value[0]) if value else None

    def changes(self) -> dict[str, dict[str, Any]]:
        return {
            key.removeprefix("change:"): json.loads(value)
            for key, (value, _) in self.state.items()
            if key.startswith("change:")
        }


def replay_embedded(ledger: EmbeddedLedger) -> Replay:
    """Walk the log twice, a chunk at a time: in tree order (leaf bytes against their hashes,
    the chained entries' links and tree heads, the tree against its tiles and its signed
    checkpoints), then in write order (the key history and the world state it leaves)."""
    replay = Replay()
    frontier = _walk_tree(ledger, replay)
    head = LedgerHead.objects.get(pk=1)
    if head.size != replay.size or head.frontier != frontier.to_json():
        replay.problems.append(
            Problem("ledger head", f"says {head.size} entries, the log has {replay.size}")
        )
    _walk_writes(replay)
    _compare_state(replay)
    return replay


def _content_problems(entry: LedgerEntry, where: str) -> tuple[bytes, list[Problem]]:
    try:
        content = entry_content(entry)
    except ValueError as exc:
        return b"", [Problem(where, str(exc))]
    if leaves.entry_hash(content) != entry.entry_hash or leaves.leaf_hash(content) != (
        entry.leaf_hash
    ):
        return content, [Problem(where, "content does not match its hash")]
    return content, []


def _walk_tree(ledger: EmbeddedLedger, replay: Replay) -> merkle.Frontier:
    public_key = ledger.public_key
    frontier = merkle.Frontier()
    tiles = _StoredTiles()
    checkpoints = LedgerCheckpoint.objects.order_by("size").iterator(chunk_size=500)
    checkpoint = next(checkpoints, None)
    previous = GENESIS_HASH
    integrated = LedgerEntry.objects.filter(position__isnull=False).order_by("position")
    for entry in integrated.iterator(chunk_size=CHUNK):
        where = f"ledger entry #{entry.seq} (tx {entry.tx_id[:16]})"
        if entry.position != replay.size:
            replay.problems.append(Problem(where, f"expected the leaf at position {replay.size}"))
        content, problems = _content_problems(entry, where)
        replay.problems += problems
        if entry.leaf_version == leaves.CHAINED:
            if entry.prev_hash != previous:
                replay.problems.append(Problem(where, "does not link to the entry before it"))
            try:
                public_key.verify(
                    bytes.fromhex(entry.tree_signature),
                    tree_head_message(entry.seq, entry.tree_root),
                )
            except (InvalidSignature, ValueError):
                replay.problems.append(Problem(where, "tree head signature is invalid"))
            previous = entry.entry_hash
        for height, index, node in frontier.append_nodes(merkle.leaf_hash(content)):
            if not tiles.holds(height, index, node):
                replay.problems.append(
                    Problem(where, f"the log's tile at level {height // 8} does not match it")
                )
        root = frontier.root()
        if root.hex() != entry.tree_root:
            replay.problems.append(Problem(where, "Merkle root does not match the log"))
        while checkpoint is not None and checkpoint.size <= frontier.size:
            replay.problems += _checkpoint_problems(checkpoint, frontier.size, root)
            checkpoint = next(checkpoints, None)
        replay.size = frontier.size
        replay.root = root.hex()
    while checkpoint is not None:
        replay.problems.append(
            Problem(f"checkpoint {checkpoint.size}", f"is larger than the log ({replay.size})")
        )
        checkpoint = next(checkpoints, None)
    return frontier


def _checkpoint_problems(checkpoint: LedgerCheckpoint, size: int, root: bytes) -> list[Problem]:
    where = f"checkpoint {checkpoint.size}"
    if checkpoint.size != size:
        return [Problem(where, "has no place in the log (a leaf before it is missing)")]
    try:
        signed = log.open_checkpoint(checkpoint.note)
    except NoteError as exc:
        return [Problem(where, f"is not signed by this log: {exc}")]
    if (signed.size, signed.root) != (size, root) or checkpoint.root != root.hex():
        return [Problem(where, "signs a tree that is not the log's")]
    return []


class _StoredTiles:
    """The stored tiles, read one at a time per level as the tree walk reaches them."""

    def __init__(self) -> None:
        self._current: dict[int, tuple[int, bytes]] = {}

    def holds(self, height: int, index: int, node: bytes) -> bool:
        if height % log.TILE_HEIGHT:
            return True
        level = height // log.TILE_HEIGHT
        tile_index, offset = divmod(index, log.TILE_WIDTH)
        if self._current.get(level, (-1, b""))[0] != tile_index:
            stored = (
                LedgerTile.objects.filter(level=level, index=tile_index)
                .values_list("hashes", flat=True)
                .first()
            )
            self._current[level] = (tile_index, bytes(stored or b""))
        hashes = self._current[level][1]
        return hashes[offset * log.HASH_SIZE : (offset + 1) * log.HASH_SIZE] == node


def _walk_writes(replay: Replay) -> None:
    """Entries in the order they were written (each key's writes in its order), beside the
    key history rows, one chunk of each at a time; the world state follows from the entries."""
    history = (
        KeyModification.objects.order_by("entry_id", "id")
        .values_list("key", "entry_id", "value", "is_delete")
        .iterator(chunk_size=CHUNK)
    )
    reported = False
    stored_rows = 0
    for entry in LedgerEntry.objects.order_by("seq").iterator(chunk_size=CHUNK):
        if entry.position is None:
            where = f"ledger entry #{entry.seq} (tx {entry.tx_id[:16]})"
            replay.problems += _content_problems(entry, where)[1]
        for key, value in entry.write_set:
            want = (key, entry.seq, value or "", value is None)
            have = next(history, None)
            stored_rows += have is not None
            if want != have and not reported:
                replay.problems.append(
                    Problem(f"key history of {key}", f"differs at ledger entry #{entry.seq}")
                )
                reported = True
            if value is None:
                replay.state.pop(key, None)
            else:
                replay.state[key] = (value, entry.seq)
    extra = sum(1 for _ in history)
    if extra and not reported:
        replay.problems.append(
            Problem("key history", f"has {stored_rows + extra} rows, the log wrote {stored_rows}")
        )


def _compare_state(replay: Replay) -> None:
    stored = {row.key: (row.value, row.entry_id) for row in WorldState.objects.iterator()}
    for key in sorted(stored.keys() | replay.state.keys()):
        expected, actual = replay.state.get(key), stored.get(key)
        if expected == actual:
            continue
        if actual is None:
            replay.problems.append(Problem(f"world state {key}", "missing"))
        elif expected is None:
            replay.problems.append(
                Problem(f"world state {key}", "is not written by any ledger entry")
            )
        else:
            replay.problems.append(
                Problem(
                    f"world state {key}",
                    f"differs from what ledger entry #{expected[1]} wrote",
                )
            )
