"""What the ledger tells of its commits: an event as handlers see it, and what they did."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class LedgerEvent:
    """One chaincode event as a handler sees it: where it was committed and what it says."""

    block: int
    tx_id: str
    name: str
    payload: bytes

    def data(self) -> dict[str, Any]:
        """The event's JSON payload."""
        parsed: dict[str, Any] = json.loads(self.payload)
        return parsed


@dataclass(frozen=True)
class Outcome:
    """What a handler did with an event.

    ``row_missing``: the change's row is not in the database (yet, or ever). ``pending``: the
    transaction writing it is still open, so the event must be handled again later and the
    listener's checkpoint must not move past it.
    """

    block: int
    tx_id: str
    change_id: str
    confirmed: bool
    note: str
    row_missing: bool = False
    pending: bool = False


class EventHandler(Protocol):
    """Confirms what an event is about, inside the transaction that moves the checkpoint."""

    def __call__(self, *, event: LedgerEvent) -> Outcome: ...
