"""Check the app's rows against what the ledger recorded, each by the app that keeps them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ledger.base import FUNCTIONS
from ledger.keepers import keepers
from ledger.verify import Problem


def history_problems(
    *,
    backend: str,
    ledger_change: Callable[[str], dict[str, Any] | None],
    ledger_change_ids: set[str] | None = None,
) -> list[Problem]:
    """Every history row must match its ledger change, and (when the ledger can list its
    changes) every ledger change must have its history row."""
    problems: list[Problem] = []
    seen: set[str] = set()
    for keeper in keepers():
        problems.extend(keeper.problems(backend=backend, ledger_change=ledger_change, seen=seen))
    if ledger_change_ids is not None:
        for change_id in sorted(ledger_change_ids - seen):
            recorded = ledger_change(change_id) or {}
            if recorded.get("type") in {function.subject for function in FUNCTIONS}:
                problems.append(
                    Problem(f"ledger change {change_id}", "has no history row in the database")
                )
    return problems
