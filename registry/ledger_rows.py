"""Registry keeps the rows of RegisterVehicle (the application's approval in its history) and
RecordDocument (the document's anchor), and holds them against what the ledger recorded."""

from __future__ import annotations

from collections.abc import Iterator

from ledger.base import FUNCTIONS, DocumentAnchor, LedgerFunction, VehicleRegistration
from ledger.events import LedgerEvent, Outcome
from ledger.keepers import LedgerChange
from ledger.verify import Problem
from registry.document_services import anchor_of
from registry.models import ApplicationStatusChange, Document


def _declared(record_type: type) -> LedgerFunction:
    return next(f for f in FUNCTIONS if f.record_type is record_type)


def _unconfirmed(event: LedgerEvent) -> Outcome:
    # These functions emit no event; nothing of theirs is confirmed from the stream.
    return Outcome(event.block, event.tx_id, "", False, f"ignored event {event.name}")


class RegistrationRows:
    function = _declared(VehicleRegistration)

    def confirm(self, *, event: LedgerEvent) -> Outcome:
        return _unconfirmed(event)

    def problems(
        self, *, backend: str, ledger_change: LedgerChange, seen: set[str]
    ) -> Iterator[Problem]:
        for change in ApplicationStatusChange.objects.filter(ledger_backend=backend).order_by("pk"):
            change_id = str(change.change_id)
            seen.add(change_id)
            recorded = ledger_change(change_id)
            where = f"application history row {change.pk} (change {change_id})"
            if recorded is None:
                yield Problem(where, "has no change on the ledger")
            elif recorded.get("tx_id") != change.ledger_tx_id:
                yield Problem(where, "differs from the ledger in tx_id")


class DocumentRows:
    function = _declared(DocumentAnchor)

    def confirm(self, *, event: LedgerEvent) -> Outcome:
        return _unconfirmed(event)

    def problems(
        self, *, backend: str, ledger_change: LedgerChange, seen: set[str]
    ) -> Iterator[Problem]:
        for document in Document.objects.filter(ledger_backend=backend).order_by("pk"):
            change_id = str(document.ledger_change_id)
            seen.add(change_id)
            recorded = ledger_change(change_id)
            where = f"document {document.public_id} (change {change_id})"
            if recorded is None:
                yield Problem(where, "has no anchor on the ledger")
                continue
            expected = {**anchor_of(document).recorded(), "tx_id": document.ledger_tx_id}
            differing = [field for field, value in expected.items() if recorded.get(field) != value]
            if differing:
                yield Problem(
                    where, "differs from its ledger anchor in " + ", ".join(sorted(differing))
                )
