"""Clearance keeps the rows of UpdateClearanceStatus: it confirms their receipts from the
ledger's events and holds them against what the ledger recorded."""

from __future__ import annotations

from collections.abc import Iterator

from clearance.models import ClearanceStatusChange
from clearance.services import clearance_change_confirm
from clearance.transitions import ledger_record
from ledger.base import FUNCTIONS, ClearanceChange, LedgerFunction
from ledger.events import LedgerEvent, Outcome
from ledger.keepers import LedgerChange
from ledger.verify import Problem


class ClearanceRows:
    function: LedgerFunction = next(f for f in FUNCTIONS if f.record_type is ClearanceChange)

    def confirm(self, *, event: LedgerEvent) -> Outcome:
        return clearance_change_confirm(event=event)

    def problems(
        self, *, backend: str, ledger_change: LedgerChange, seen: set[str]
    ) -> Iterator[Problem]:
        rows = (
            ClearanceStatusChange.objects.filter(ledger_backend=backend)
            .select_related("request__application__vehicle", "organisation")
            .order_by("pk")
            .iterator(chunk_size=2000)
        )
        for row in rows:
            change_id = str(row.change_id)
            seen.add(change_id)
            where = (
                f"clearance history row {row.pk} (change {change_id}, tx {row.ledger_tx_id[:16]})"
            )
            recorded = ledger_change(change_id)
            if recorded is None:
                yield Problem(where, "has no change on the ledger")
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
                yield Problem(where, "differs from the ledger in " + ", ".join(sorted(differing)))
