"""Check the app's rows against what the ledger recorded, each by the app that keeps them,
and write back what the ledger committed and the database lost."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.utils import timezone

from ledger.base import Ledger
from ledger.keepers import Unrepairable, keeper_for_subject, keepers
from ledger.verify import Problem

logger = logging.getLogger(__name__)


@dataclass
class Comparison:
    problems: list[Problem] = field(default_factory=list)
    # The changes the ledger holds that no row records: change id → what the ledger says.
    ledger_only: dict[str, dict[str, Any]] = field(default_factory=dict)


def compare_history(
    *,
    backend: str,
    ledger_change: Callable[[str], dict[str, Any] | None],
    ledger_change_ids: set[str] | None = None,
) -> Comparison:
    """Every row must match its ledger change, and (when the ledger can list its changes)
    every ledger change of a declared function must have its row."""
    comparison = Comparison()
    seen: set[str] = set()
    for keeper in keepers():
        comparison.problems.extend(
            keeper.problems(backend=backend, ledger_change=ledger_change, seen=seen)
        )
    for change_id in sorted((ledger_change_ids or set()) - seen):
        recorded = ledger_change(change_id) or {}
        if keeper_for_subject(str(recorded.get("type", ""))) is not None:
            comparison.problems.append(
                Problem(f"ledger change {change_id}", "has no history row in the database")
            )
            comparison.ledger_only[change_id] = recorded
    return comparison


def history_problems(
    *,
    backend: str,
    ledger_change: Callable[[str], dict[str, Any] | None],
    ledger_change_ids: set[str] | None = None,
) -> list[Problem]:
    return compare_history(
        backend=backend, ledger_change=ledger_change, ledger_change_ids=ledger_change_ids
    ).problems


def state_problems(ledger: Ledger) -> list[Problem]:
    """Every current status (request, application, vehicle) the ledger's world state
    contradicts."""
    return [problem for keeper in keepers() for problem in keeper.state_problems(ledger=ledger)]


def unconfirmed_problems(*, backend: str, older_than_seconds: float) -> list[Problem]:
    """The receipts whose ledger event has not been seen for longer than that."""
    before = timezone.now() - timedelta(seconds=older_than_seconds)
    return [
        problem
        for keeper in keepers()
        for problem in keeper.unconfirmed(backend=backend, before=before)
    ]


@dataclass(frozen=True)
class Repair:
    change_id: str
    repaired: bool
    detail: str


def repair_ledger_only(*, ledger_only: dict[str, dict[str, Any]], backend: str) -> list[Repair]:
    """Hand each ledger-only change to the keeper of its function, in change id order."""
    repairs = []
    for change_id, recorded in sorted(ledger_only.items()):
        keeper = keeper_for_subject(str(recorded.get("type", "")))
        if keeper is None:
            continue
        try:
            detail = keeper.repair(change=recorded, backend=backend)
        except Unrepairable as exc:
            logger.warning("ledger change %s not repaired: %s", change_id, exc)
            repairs.append(Repair(change_id, False, str(exc)))
            continue
        repairs.append(Repair(change_id, True, detail))
    return repairs
