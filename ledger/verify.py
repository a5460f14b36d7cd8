"""Recompute the embedded ledger from its log and name whatever does not match."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from cryptography.exceptions import InvalidSignature

from ledger import merkle
from ledger.embedded import GENESIS_HASH, EmbeddedLedger, entry_content, tree_head_message
from ledger.models import KeyModification, LedgerHead, WorldState


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
    tx_seq: dict[str, int] = field(default_factory=dict)
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
    """Walk the log in order: chain links, Merkle roots, signatures, then the world state."""
    replay = Replay()
    public_key = ledger.public_key
    frontier = merkle.Frontier()
    previous = GENESIS_HASH
    modifications: list[tuple[str, int, str, bool]] = []
    for entry in ledger.entries():
        where = f"ledger entry #{entry.seq} (tx {entry.tx_id[:16]})"
        if entry.seq != replay.size + 1:
            replay.problems.append(Problem(where, f"expected entry #{replay.size + 1} here"))
        content = entry_content(entry)
        if entry.prev_hash != previous:
            replay.problems.append(Problem(where, "does not link to the entry before it"))
        if hashlib.sha256(content).hexdigest() != entry.entry_hash:
            replay.problems.append(Problem(where, "content does not match its hash"))
        frontier.append(merkle.leaf_hash(content))
        root = frontier.root().hex()
        if root != entry.tree_root:
            replay.problems.append(Problem(where, "Merkle root does not match the log"))
        try:
            public_key.verify(
                bytes.fromhex(entry.tree_signature), tree_head_message(entry.seq, entry.tree_root)
            )
        except (InvalidSignature, ValueError):
            replay.problems.append(Problem(where, "tree head signature is invalid"))
        for key, value in entry.write_set:
            modifications.append((key, entry.seq, value or "", value is None))
            if value is None:
                replay.state.pop(key, None)
            else:
                replay.state[key] = (value, entry.seq)
        replay.tx_seq[entry.tx_id] = entry.seq
        previous = entry.entry_hash
        replay.size = entry.seq
        replay.root = root

    head = LedgerHead.objects.get(pk=1)
    if (head.size, head.last_hash) != (replay.size, previous):
        replay.problems.append(
            Problem("ledger head", f"says {head.size} entries, the log has {replay.size}")
        )
    _compare_state(replay)
    _compare_history(replay, modifications)
    return replay


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


def _compare_history(replay: Replay, expected: list[tuple[str, int, str, bool]]) -> None:
    stored = list(
        KeyModification.objects.order_by("entry_id", "id").values_list(
            "key", "entry_id", "value", "is_delete"
        )
    )
    if stored == expected:
        return
    for want, have in zip(expected, stored, strict=False):
        if want != have:
            replay.problems.append(
                Problem(f"key history of {want[0]}", f"differs at ledger entry #{want[1]}")
            )
            return
    replay.problems.append(
        Problem("key history", f"has {len(stored)} rows, the log wrote {len(expected)}")
    )
