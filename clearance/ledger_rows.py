"""Clearance keeps the rows of UpdateClearanceStatus: it confirms their receipts from the
ledger's events and holds them against what the ledger recorded."""

from __future__ import annotations

from collections.abc import Iterator

from clearance.models import ClearanceStatusChange
from clearance.services import clearance_change_confirm
from clearance.transitions import ledger_record
from ledger.base import FUNCTIONS, ClearanceChange, LedgerFunction
from ledger.events import LedgerEvent, Outcome
from ledger.keepers import LedgerChange, mismatches
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
        return mismatches(
            rows,
            ledger_change=ledger_change,
            seen=seen,
            change_id=lambda row: str(row.change_id),
            where=lambda row: (
                f"clearance history row {row.pk} (change {row.change_id}, "
                f"tx {row.ledger_tx_id[:16]})"
            ),
            expected=self._expected,
        )

    @staticmethod
    def _expected(row: ClearanceStatusChange) -> dict[str, str]:
        record = ledger_record(
            request=row.request,
            from_status=row.from_status,
            to_status=row.to_status,
            change_id=row.change_id,
            actor_id=row.actor_id,
            remarks=row.remarks,
            organisation=row.organisation,
        )
        return {**record.recorded(), "tx_id": row.ledger_tx_id}
