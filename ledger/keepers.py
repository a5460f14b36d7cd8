"""Which app keeps the rows of each ledger function, registered once when Django starts.

``ledger.base.FUNCTIONS`` declares what the ledger is written with; the app whose rows a
function's changes belong to registers a ``RowKeeper`` for it (``AppConfig.ready``). The
listener hands the keeper the events of its function to confirm, and the audit trail's verify
and reconcile ask every keeper to compare its rows with the ledger.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any, Protocol, TypeVar

from ledger.base import FUNCTIONS, LedgerFunction
from ledger.events import LedgerEvent, Outcome
from ledger.verify import Problem

# What the ledger recorded for a change id, or None.
LedgerChange = Callable[[str], dict[str, Any] | None]


class RowKeeper(Protocol):
    function: LedgerFunction

    def confirm(self, *, event: LedgerEvent) -> Outcome:
        """The function's event was committed: confirm the row's receipt (if it has one)."""
        ...

    def problems(
        self, *, backend: str, ledger_change: LedgerChange, seen: set[str]
    ) -> Iterable[Problem]:
        """Every row recorded on ``backend`` that does not match its ledger change; adds
        each row's change id to ``seen``."""
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


def confirm(*, event: LedgerEvent) -> Outcome:
    """Hand an event to the keeper of the function that emits it."""
    for keeper in keepers():
        if keeper.function.event and keeper.function.event == event.name:
            return keeper.confirm(event=event)
    return ignored(event)


def ignored(event: LedgerEvent) -> Outcome:
    """The outcome for an event no declared function emits: nothing to confirm."""
    return Outcome(event.block, event.tx_id, "", False, f"ignored event {event.name}")
