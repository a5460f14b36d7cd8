"""Check the app's clearance history against what the ledger recorded, row by row."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from clearance.models import ClearanceStatusChange
from clearance.transitions import ledger_record
from ledger.verify import Problem
from registry.document_services import anchor_of
from registry.models import ApplicationStatusChange, Document


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
    rows = (
        ClearanceStatusChange.objects.filter(ledger_backend=backend)
        .select_related("request__application__vehicle", "organisation")
        .order_by("pk")
        .iterator(chunk_size=2000)
    )
    for row in rows:
        change_id = str(row.change_id)
        seen.add(change_id)
        where = f"clearance history row {row.pk} (change {change_id}, tx {row.ledger_tx_id[:16]})"
        recorded = ledger_change(change_id)
        if recorded is None:
            problems.append(Problem(where, "has no change on the ledger"))
            continue
        record = ledger_record(
            request=row.request,
            from_status=row.from_status,
            to_status=row.to_status,
            change_id=row.change_id,
            actor_id=row.actor_id,
            remarks=row.remarks,
            organisation=row.organisation,
        )
        expected = {**record.recorded(), "tx_id": row.ledger_tx_id}
        differing = [field for field, value in expected.items() if recorded.get(field) != value]
        if differing:
            problems.append(
                Problem(where, "differs from the ledger in " + ", ".join(sorted(differing)))
            )
    for change in ApplicationStatusChange.objects.filter(ledger_backend=backend).order_by("pk"):
        change_id = str(change.change_id)
        seen.add(change_id)
        recorded = ledger_change(change_id)
        where = f"application history row {change.pk} (change {change_id})"
        if recorded is None:
            problems.append(Problem(where, "has no change on the ledger"))
        elif recorded.get("tx_id") != change.ledger_tx_id:
            problems.append(Problem(where, "differs from the ledger in tx_id"))
    for document in Document.objects.filter(ledger_backend=backend).order_by("pk"):
        change_id = str(document.ledger_change_id)
        seen.add(change_id)
        recorded = ledger_change(change_id)
        where = f"document {document.public_id} (change {change_id})"
        if recorded is None:
            problems.append(Problem(where, "has no anchor on the ledger"))
            continue
        expected = {**anchor_of(document).recorded(), "tx_id": document.ledger_tx_id}
        differing = [field for field, value in expected.items() if recorded.get(field) != value]
        if differing:
            problems.append(
                Problem(where, "differs from its ledger anchor in " + ", ".join(sorted(differing)))
            )
    if ledger_change_ids is not None:
        for change_id in sorted(ledger_change_ids - seen):
            recorded = ledger_change(change_id) or {}
            if recorded.get("type") in {"clearance", "vehicle", "document"}:
                problems.append(
                    Problem(f"ledger change {change_id}", "has no history row in the database")
                )
    return problems
