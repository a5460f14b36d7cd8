"""Registry keeps the rows of RegisterVehicle (the application's approval in its history) and
RecordDocument (the document's anchor), and holds them against what the ledger recorded."""

from __future__ import annotations

from collections.abc import Iterator

from ledger.base import FUNCTIONS, DocumentAnchor, LedgerFunction, VehicleRegistration
from ledger.events import LedgerEvent, Outcome
from ledger.keepers import LedgerChange, ignored, mismatches
from ledger.verify import Problem
from registry.document_services import anchor_of
from registry.models import ApplicationStatusChange, Document


def _declared(record_type: type) -> LedgerFunction:
    return next(f for f in FUNCTIONS if f.record_type is record_type)


class RegistrationRows:
    function = _declared(VehicleRegistration)

    def confirm(self, *, event: LedgerEvent) -> Outcome:
        # RegisterVehicle and RecordDocument emit no event: nothing is confirmed from the stream.
        return ignored(event)

    def problems(
        self, *, backend: str, ledger_change: LedgerChange, seen: set[str]
    ) -> Iterator[Problem]:
        return mismatches(
            ApplicationStatusChange.objects.filter(ledger_backend=backend).order_by("pk"),
            ledger_change=ledger_change,
            seen=seen,
            change_id=lambda change: str(change.change_id),
            where=lambda change: f"application history row {change.pk} (change {change.change_id})",
            expected=lambda change: {"tx_id": change.ledger_tx_id},
        )


class DocumentRows:
    function = _declared(DocumentAnchor)

    def confirm(self, *, event: LedgerEvent) -> Outcome:
        # RegisterVehicle and RecordDocument emit no event: nothing is confirmed from the stream.
        return ignored(event)

    def problems(
        self, *, backend: str, ledger_change: LedgerChange, seen: set[str]
    ) -> Iterator[Problem]:
        return mismatches(
            Document.objects.filter(ledger_backend=backend).order_by("pk"),
            ledger_change=ledger_change,
            seen=seen,
            change_id=lambda document: str(document.ledger_change_id),
            where=lambda document: (
                f"document {document.public_id} (change {document.ledger_change_id})"
            ),
            expected=lambda document: {
                **anchor_of(document).recorded(),
                "tx_id": document.ledger_tx_id,
            },
            missing="has no anchor on the ledger",
            differs="differs from its ledger anchor in",
        )
