"""Clearance keeps the rows of UpdateClearanceStatus: it confirms their receipts from the
ledger's events, holds them (and the requests' current statuses) against what the ledger
recorded, and writes back a change the ledger committed and the database lost."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from clearance.models import ClearanceRequest, ClearanceStatusChange
from clearance.repairs import clearance_change_repair
from clearance.services import clearance_change_confirm
from clearance.transitions import ledger_record
from ledger.base import (
    FUNCTIONS,
    ClearanceChange,
    Ledger,
    LedgerFunction,
    actor_pseudonym,
    sha256_hex,
)
from ledger.events import LedgerEvent, Outcome
from ledger.keepers import LedgerChange, mismatches, unconfirmed_rows
from ledger.verify import Problem


def _where(row: ClearanceStatusChange) -> str:
    return f"clearance history row {row.pk} (change {row.change_id}, tx {row.ledger_tx_id[:16]})"


def awaits_remarks(row: ClearanceStatusChange) -> bool:
    """A row repaired from the ledger whose remarks its organisation has yet to re-enter:
    the ledger kept only their digest."""
    return (
        row.repaired_from_ledger_at is not None
        and row.reentered_at is None
        and bool(row.remarks_digest)
        and not row.remarks
    )


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
            yield from mismatches(
                [row],
                ledger_change=ledger_change,
                seen=seen,
                change_id=lambda row: str(row.change_id),
                where=_where,
                expected=self._expected,
            )
            yield from self._stored_digests(row)

    @staticmethod
    def _stored_digests(row: ClearanceStatusChange) -> Iterator[Problem]:
        """The digests a row keeps beside what they digest must still be of it."""
        if row.remarks_digest != sha256_hex(row.remarks) and not awaits_remarks(row):
            yield Problem(_where(row), "has a remarks_digest that is not the digest of its remarks")
        if row.actor_pseudonym != actor_pseudonym(row.actor_id):
            yield Problem(_where(row), "has an actor_pseudonym that is not its actor's")

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
        expected = {**record.recorded(), "tx_id": row.ledger_tx_id}
        if awaits_remarks(row):
            expected["remarks_digest"] = row.remarks_digest
        return expected

    def state_problems(self, *, ledger: Ledger) -> Iterator[Problem]:
        requests = (
            ClearanceRequest.objects.filter(status_changes__ledger_backend=ledger.name)
            .distinct()
            .order_by("pk")
        )
        for request in requests.iterator(chunk_size=500):
            where = f"clearance request {request.pk} ({request.public_id})"
            recorded = ledger.world_state("GetClearance", str(request.public_id))
            if recorded is None:
                yield Problem(where, "is not on the ledger")
            elif recorded.get("status") != request.status:
                yield Problem(
                    where,
                    f"is {request.status} in the database but {recorded.get('status')} "
                    "on the ledger",
                )

    def unconfirmed(self, *, backend: str, before: datetime) -> Iterator[Problem]:
        rows = ClearanceStatusChange.objects.filter(
            ledger_backend=backend, ledger_confirmed_at__isnull=True, ledger_timestamp__lt=before
        ).order_by("pk")
        return unconfirmed_rows(rows, where=_where)

    def repair(self, *, change: dict[str, Any], backend: str) -> str:
        return clearance_change_repair(change=change, backend=backend)
