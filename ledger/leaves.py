"""The leaves of the embedded ledger's log: the canonical bytes of each entry, by format.

- Version 1 (entries written before the log was tiled): the entry chained to the one before,
  its position (``seq``) and the previous entry's hash inside the bytes. Kept bit for bit, so
  the tree over them and the tree heads signed then are unchanged.
- Version 2: the transaction alone (function, arguments, signer's MSP, response, write set,
  events, time), known in the writer's transaction before any position is, so a write needs
  no row shared by all writes.

The Merkle leaf hash is SHA-256(0x00 || bytes) (RFC 6962); ``entry_hash`` is SHA-256(bytes).
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any, Protocol

from ledger import merkle

CHAINED = 1
TRANSACTION = 2
CURRENT = TRANSACTION


class Leaf(Protocol):
    seq: int
    leaf_version: int
    tx_id: str
    function: str
    args: Any
    creator_msp: str
    response: str
    write_set: Any
    events: Any
    timestamp: datetime
    prev_hash: str


def _canonical(body: dict[str, Any]) -> bytes:
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()


def _transaction(entry: Leaf) -> dict[str, Any]:
    """What a leaf says of its transaction, in either format (keys are sorted when written)."""
    return {
        "tx_id": entry.tx_id,
        "function": entry.function,
        "args": entry.args,
        "creator_msp": entry.creator_msp,
        "response": entry.response,
        "write_set": entry.write_set,
        "events": entry.events,
        "timestamp": entry.timestamp.astimezone(UTC).isoformat(),
    }


def chained_content(entry: Leaf) -> bytes:
    """Version 1, as it was written: never change its keys, or old entries stop verifying."""
    return _canonical({**_transaction(entry), "seq": entry.seq, "prev_hash": entry.prev_hash})


def transaction_content(entry: Leaf) -> bytes:
    return _canonical({"v": TRANSACTION, **_transaction(entry)})


def content(entry: Leaf) -> bytes:
    if entry.leaf_version == CHAINED:
        return chained_content(entry)
    if entry.leaf_version == TRANSACTION:
        return transaction_content(entry)
    raise ValueError(f"Unknown leaf format {entry.leaf_version}.")


def entry_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def leaf_hash(data: bytes) -> str:
    return merkle.leaf_hash(data).hex()
