"""Which app keeps the rows of each ledger function, registered once when Django starts.

``ledger.base.FUNCTIONS`` declares what the ledger is written with; the app whose rows a
function's changes belong to registers a ``RowKeeper`` for it (``AppConfig.ready``). The
listener hands the keeper the events of its function to confirm (``confirm`` here waits for a
writer still open), and the audit trail's verify and reconcile ask every keeper to compare its
rows and current statuses with the ledger, and to write back a change only the ledger has.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from django.utils import timezone

from ledger.base import FUNCTIONS, LedgerFunction
from ledger.events import LedgerEvent, Outcome
from ledger.locks import writer_open
from ledger.verify import Problem

if TYPE_CHECKING:
    from ledger.base import Ledger
    from ledger.models import RecordedOnLedger

# What the ledger recorded for a change id, or None.
LedgerChange = Callable[[str], dict[str, Any] | None]


class Unrepairable(Exception):
    """A ledger-only change that cannot be written back into the database; says why."""


class RowKeeper(Protocol):
    function: LedgerFunction

    def confirm(self, *, event: LedgerEvent) -> Outcome:
        """The function's event was committed: confirm the row's receipt. With no row for
        the change, the outcome says ``row_missing`` (see ``receipt_confirmed``)."""
        ...

    def problems(
        self, *, backend: str, ledger_change: LedgerChange, seen: set[str]
    ) -> Iterable[Problem]:
        """Every row recorded on ``backend`` that does not match its ledger change, or whose
        stored digests do not match what they digest; adds each row's change id to ``seen``."""
        ...

    def state_problems(self, *, ledger: Ledger) -> Iterable[Problem]:
        """Every current status (not history) that differs from the ledger's world state."""
        ...

    def unconfirmed(self, *, backend: str, before: datetime) -> Iterable[Problem]:
        """The rows recorded on ``backend`` before ``before`` whose event was never seen."""
        ...

    def repair(self, *, change: dict[str, Any], backend: str) -> str:
        """Write the rows of a change the ``backend`` ledger holds and the database lacks (its
        transaction rolled back after the ledger committed), mark them repaired, tell the
        people concerned; return what was done. Raises Unrepairable."""
        ...


Row = TypeVar("Row")


def mismatches(
    rows: Iterable[Row],
    *,
    ledger_change: LedgerChange,
    seen: set[str],
    change_id: Callable[[Row], str],
    where: Callable[[Row], str],
    expected: Callable[[Row], dict[str, Any]],
    missing: str = "has no change on the ledger",
    differs: str = "differs from the ledger in",
) -> Iterator[Problem]:
    """The rows whose ledger change is missing or says otherwise than ``expected``."""
    for row in rows:
        key = change_id(row)
        seen.add(key)
        recorded = ledger_change(key)
        if recorded is None:
            yield Problem(where(row), missing)
            continue
        differing = sorted(
            field for field, value in expected(row).items() if recorded.get(field) != value
        )
        if differing:
            yield Problem(where(row), f"{differs} " + ", ".join(differing))


_keepers: dict[str, RowKeeper] = {}


def register(keeper: RowKeeper) -> None:
    """One keeper per function; registering the same function again replaces it."""
    _keepers[keeper.function.chaincode_name] = keeper


def keepers() -> list[RowKeeper]:
    """The registered keepers, in the order the functions are declared."""
    return [_keepers[f.chaincode_name] for f in FUNCTIONS if f.chaincode_name in _keepers]


def keeper_for_subject(subject: str) -> RowKeeper | None:
    """The keeper of the function whose changes GetChange calls ``subject`` ("type")."""
    return next((k for k in keepers() if k.function.subject == subject), None)


def confirm(*, event: LedgerEvent) -> Outcome:
    """Hand an event to the keeper of the function that emits it.

    An event can arrive before the transaction that wrote its row has committed. While that
    transaction is open the outcome is ``pending`` (the listener waits and asks again); once
    it has ended, a row still missing never will come: a ledger-only change, for
    ``reconcile_ledger --repair``.
    """
    keeper = next((k for k in keepers() if k.function.event == event.name), None)
    if keeper is None:
        return ignored(event)
    change_id = str(event.data().get("change_id", ""))
    if not _is_uuid(change_id):
        # Written by another client of the channel: no row of ours can have it.
        return replace(
            missing(event, change_id),
            note="ledger-only change: its change id is not one this app writes",
        )
    outcome = keeper.confirm(event=event)
    if not outcome.row_missing:
        return outcome
    if writer_open(outcome.change_id):
        return replace(outcome, pending=True, note="waiting for the transaction writing it")
    # The writer has ended since the first look: its row is committed now, or never will be.
    outcome = keeper.confirm(event=event)
    if outcome.row_missing:
        return replace(
            outcome, note="ledger-only change: no row was committed (reconcile_ledger --repair)"
        )
    return outcome


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def missing(event: LedgerEvent, change_id: str) -> Outcome:
    """The outcome for an event whose change has no row in the database."""
    return Outcome(event.block, event.tx_id, change_id, False, "no row", row_missing=True)


def receipt_confirmed(row: RecordedOnLedger | None, event: LedgerEvent, change_id: str) -> Outcome:
    """Confirm a (locked) row's receipt from its event, unless the receipt says otherwise."""
    block, tx_id = event.block, event.tx_id
    if row is None:
        return missing(event, change_id)
    if row.ledger_tx_id != tx_id:
        return Outcome(block, tx_id, change_id, False, "recorded in another transaction")
    if row.ledger_block is not None and row.ledger_block != block:
        return Outcome(block, tx_id, change_id, False, f"receipt says block {row.ledger_block}")
    if row.ledger_confirmed_at is not None:
        return Outcome(block, tx_id, change_id, False, "already confirmed")
    row.ledger_block = block
    row.ledger_confirmed_at = timezone.now()
    row.save(update_fields=["ledger_block", "ledger_confirmed_at"])
    return Outcome(block, tx_id, change_id, True, "confirmed")


def confirm_row(rows: Any, event: LedgerEvent, *, field: str = "ledger_change_id") -> Outcome:
    """Confirm the receipt of the row of ``rows`` (a model's queryset) whose ``field`` holds
    the event's change id, locking it: the ``confirm`` of most keepers."""
    change_id = str(event.data().get("change_id", ""))
    row = rows.select_for_update().filter(**{field: change_id}).first() if change_id else None
    return receipt_confirmed(row, event, change_id)


def unconfirmed_rows(rows: Iterable[Row], *, where: Callable[[Row], str]) -> Iterator[Problem]:
    """A problem for each row given: its receipt was never confirmed by the ledger's event."""
    for row in rows:
        yield Problem(where(row), "has a receipt the ledger's event never confirmed")


def ignored(event: LedgerEvent) -> Outcome:
    """The outcome for an event no declared function emits: nothing to confirm."""
    return Outcome(event.block, event.tx_id, "", False, f"ignored event {event.name}")
