"""Registry keeps the rows of RegisterVehicle (the application's approval in its history),
RecordDocument (the document's anchor), TransferOwnership (the buyer's ownership period),
RecordOrigin (the dealer's origin record), DeregisterVehicle (the vehicle's deregistration),
PlaceHold and LiftHold (a hold's row), AnnotateMortgage (the mortgage) and ReleaseMortgage
(its release): it
confirms their receipts from the ledger's events, holds them (and the current registrations and
owners) against what the ledger recorded, and writes back what the ledger committed and the
database lost, where it can be."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from chaincode.rules import DEREGISTERED, ApplicationStatus
from ledger.base import (
    FUNCTIONS,
    DocumentAnchor,
    HoldLifting,
    HoldPlacement,
    Ledger,
    LedgerFunction,
    MortgageAnnotation,
    MortgageRelease,
    OwnershipTransfer,
    VehicleDeregistration,
    VehicleOrigin,
    VehicleRegistration,
    owner_pseudonym,
)
from ledger.events import LedgerEvent, Outcome
from ledger.keepers import (
    LedgerChange,
    Unrepairable,
    confirm_row,
    mismatches,
    missing,
    unconfirmed_rows,
)
from ledger.verify import Problem
from registry.deregistration import deregistration_of
from registry.document_services import anchor_of
from registry.holds import hold_record, lift_record
from registry.models import (
    ApplicationStatusChange,
    Deregistration,
    Document,
    Hold,
    Mortgage,
    OriginRecord,
    OwnershipPeriod,
    RegistrationApplication,
    Vehicle,
)
from registry.models import MortgageRelease as MortgageReleaseRow
from registry.mortgages import (
    annotation_of,
    mortgage_annotation_repair,
    mortgage_release_repair,
    release_of,
)
from registry.origins import origin_digest, origin_ledger_record
from registry.repairs import origin_repair, registration_repair, transfer_repair
from registry.services import vehicle_digest
from registry.transfers import transfer_of


def _declared(record_type: type) -> LedgerFunction:
    return next(f for f in FUNCTIONS if f.record_type is record_type)


def _where_approval(change: ApplicationStatusChange) -> str:
    return f"application history row {change.pk} (change {change.change_id})"


def _where_transfer(period: OwnershipPeriod) -> str:
    return f"ownership period {period.pk} (change {period.ledger_change_id})"


def _where_origin(origin: OriginRecord) -> str:
    return f"origin record {origin.vin} (change {origin.ledger_change_id})"


def _where_deregistration(row: Deregistration) -> str:
    return f"deregistration of vehicle {row.vehicle.vin} (change {row.ledger_change_id})"


def _where_document(document: Document) -> str:
    return f"document {document.public_id} (change {document.ledger_change_id})"


class RegistrationRows:
    function = _declared(VehicleRegistration)

    def confirm(self, *, event: LedgerEvent) -> Outcome:
        return confirm_row(ApplicationStatusChange.objects, event, field="change_id")

    def problems(
        self, *, backend: str, ledger_change: LedgerChange, seen: set[str]
    ) -> Iterator[Problem]:
        return mismatches(
            ApplicationStatusChange.objects.filter(ledger_backend=backend).order_by("pk"),
            ledger_change=ledger_change,
            seen=seen,
            change_id=lambda change: str(change.change_id),
            where=_where_approval,
            expected=lambda change: {"tx_id": change.ledger_tx_id},
        )

    def state_problems(self, *, ledger: Ledger) -> Iterator[Problem]:
        approvals = (
            ApplicationStatusChange.objects.filter(
                ledger_backend=ledger.name, to_status=ApplicationStatus.APPROVED
            )
            .select_related("application__vehicle")
            .order_by("pk")
        )
        registered = set()
        for approval in approvals.iterator(chunk_size=500):
            application, vehicle = approval.application, approval.application.vehicle
            registered.add(application.pk)
            if application.status != ApplicationStatus.APPROVED:
                yield Problem(
                    f"application {application.reference}",
                    f"is {application.status} in the database but registered on the ledger",
                )
            recorded = ledger.world_state("GetVehicle", vehicle.vin)
            if recorded is None:
                yield Problem(f"vehicle {vehicle.vin}", "is not registered on the ledger")
            elif recorded.get("change_id") == str(approval.change_id) and recorded.get(
                "record_digest"
            ) != vehicle_digest(vehicle):
                yield Problem(f"vehicle {vehicle.vin}", "differs from its ledger record")
        unregistered = RegistrationApplication.objects.filter(
            status=ApplicationStatus.APPROVED
        ).exclude(pk__in=registered)
        for application in unregistered.order_by("pk"):
            yield Problem(
                f"application {application.reference}",
                f"is approved in the database but not registered on the {ledger.name} ledger",
            )

    def unconfirmed(self, *, backend: str, before: datetime) -> Iterator[Problem]:
        rows = ApplicationStatusChange.objects.filter(
            ledger_backend=backend, ledger_confirmed_at__isnull=True, ledger_timestamp__lt=before
        ).order_by("pk")
        return unconfirmed_rows(rows, where=_where_approval)

    def repair(self, *, change: dict[str, Any], backend: str) -> str:
        return registration_repair(change=change, backend=backend)


class DocumentRows:
    function = _declared(DocumentAnchor)

    def confirm(self, *, event: LedgerEvent) -> Outcome:
        return confirm_row(Document.objects, event)

    def problems(
        self, *, backend: str, ledger_change: LedgerChange, seen: set[str]
    ) -> Iterator[Problem]:
        return mismatches(
            Document.objects.filter(ledger_backend=backend).order_by("pk"),
            ledger_change=ledger_change,
            seen=seen,
            change_id=lambda document: str(document.ledger_change_id),
            where=_where_document,
            expected=lambda document: {
                **anchor_of(document).recorded(),
                "tx_id": document.ledger_tx_id,
            },
            missing="has no anchor on the ledger",
            differs="differs from its ledger anchor in",
        )

    def state_problems(self, *, ledger: Ledger) -> Iterator[Problem]:
        # A document has no status: its anchor's world state is what problems() compares.
        return iter(())

    def unconfirmed(self, *, backend: str, before: datetime) -> Iterator[Problem]:
        rows = Document.objects.filter(
            ledger_backend=backend, ledger_confirmed_at__isnull=True, ledger_timestamp__lt=before
        ).order_by("pk")
        return unconfirmed_rows(rows, where=_where_document)

    def repair(self, *, change: dict[str, Any], backend: str) -> str:
        # The stored file is deleted when its transaction fails: only its digest survives.
        raise Unrepairable(
            f"document {change.get('document_id')}'s file was discarded with its transaction; "
            "the ledger keeps only its digest, so it must be uploaded again."
        )


class TransferRows:
    function = _declared(OwnershipTransfer)

    def confirm(self, *, event: LedgerEvent) -> Outcome:
        return confirm_row(OwnershipPeriod.objects, event)

    def problems(
        self, *, backend: str, ledger_change: LedgerChange, seen: set[str]
    ) -> Iterator[Problem]:
        return mismatches(
            OwnershipPeriod.objects.filter(ledger_backend=backend)
            .select_related("vehicle")
            .order_by("pk"),
            ledger_change=ledger_change,
            seen=seen,
            change_id=lambda period: str(period.ledger_change_id),
            where=_where_transfer,
            expected=lambda period: {
                **transfer_of(period).recorded(),
                "tx_id": period.ledger_tx_id,
            },
            missing="has no transfer on the ledger",
            differs="differs from its ledger transfer in",
        )

    def state_problems(self, *, ledger: Ledger) -> Iterator[Problem]:
        # The owner the ledger holds for each vehicle a transfer recorded must be its owner's.
        vehicles = Vehicle.objects.filter(
            pk__in=OwnershipPeriod.objects.filter(ledger_backend=ledger.name).values("vehicle")
        ).order_by("pk")
        for vehicle in vehicles.iterator(chunk_size=500):
            recorded = ledger.world_state("GetVehicle", vehicle.vin) or {}
            if recorded.get("owner") != owner_pseudonym(vehicle.vin, vehicle.owner_id):
                yield Problem(
                    f"vehicle {vehicle.vin}", "has another owner in the database than on the ledger"
                )

    def unconfirmed(self, *, backend: str, before: datetime) -> Iterator[Problem]:
        rows = OwnershipPeriod.objects.filter(
            ledger_backend=backend, ledger_confirmed_at__isnull=True, ledger_timestamp__lt=before
        ).order_by("pk")
        return unconfirmed_rows(rows, where=_where_transfer)

    def repair(self, *, change: dict[str, Any], backend: str) -> str:
        return transfer_repair(change=change, backend=backend)


class OriginRows:
    function = _declared(VehicleOrigin)

    def confirm(self, *, event: LedgerEvent) -> Outcome:
        return confirm_row(OriginRecord.objects, event)

    def _origins(self, backend: str) -> QuerySet[OriginRecord]:
        return OriginRecord.objects.filter(ledger_backend=backend).select_related("dealer")

    def problems(
        self, *, backend: str, ledger_change: LedgerChange, seen: set[str]
    ) -> Iterator[Problem]:
        # The stored digest must be the declaration's, and the ledger's record the row's.
        for origin in self._origins(backend).order_by("pk").iterator(chunk_size=500):
            if origin.record_digest != origin_digest(origin):
                yield Problem(_where_origin(origin), "differs from the declaration it digests")
        yield from mismatches(
            self._origins(backend).order_by("pk"),
            ledger_change=ledger_change,
            seen=seen,
            change_id=lambda origin: str(origin.ledger_change_id),
            where=_where_origin,
            expected=lambda origin: {
                **origin_ledger_record(origin).recorded(),
                "tx_id": origin.ledger_tx_id,
            },
            missing="has no origin on the ledger",
            differs="differs from its ledger origin in",
        )

    def state_problems(self, *, ledger: Ledger) -> Iterator[Problem]:
        # GetOrigin's world state holds each VIN's one origin: it must be the row's.
        for origin in self._origins(ledger.name).order_by("pk").iterator(chunk_size=500):
            recorded = ledger.world_state("GetOrigin", origin.vin)
            if recorded is None:
                yield Problem(_where_origin(origin), f"is not on the {ledger.name} ledger")
                continue
            expected = origin_ledger_record(origin).recorded()
            differing = sorted(f for f, v in expected.items() if recorded.get(f) != v)
            if differing:
                yield Problem(
                    _where_origin(origin),
                    "differs from the ledger's origin of its VIN in " + ", ".join(differing),
                )

    def unconfirmed(self, *, backend: str, before: datetime) -> Iterator[Problem]:
        rows = OriginRecord.objects.filter(
            ledger_backend=backend, ledger_confirmed_at__isnull=True, ledger_timestamp__lt=before
        ).order_by("pk")
        return unconfirmed_rows(rows, where=_where_origin)

    def repair(self, *, change: dict[str, Any], backend: str) -> str:
        return origin_repair(change=change, backend=backend)


class DeregistrationRows:
    function = _declared(VehicleDeregistration)

    def confirm(self, *, event: LedgerEvent) -> Outcome:
        return confirm_row(Deregistration.objects, event)

    def _rows(self, backend: str) -> Any:
        return (
            Deregistration.objects.filter(ledger_backend=backend)
            .select_related("vehicle", "evidence")
            .order_by("pk")
        )

    def problems(
        self, *, backend: str, ledger_change: LedgerChange, seen: set[str]
    ) -> Iterator[Problem]:
        return mismatches(
            self._rows(backend),
            ledger_change=ledger_change,
            seen=seen,
            change_id=lambda row: str(row.ledger_change_id),
            where=_where_deregistration,
            expected=lambda row: {**deregistration_of(row).recorded(), "tx_id": row.ledger_tx_id},
            missing="has no deregistration on the ledger",
            differs="differs from its ledger deregistration in",
        )

    def state_problems(self, *, ledger: Ledger) -> Iterator[Problem]:
        # Each vehicle deregistered here must be deregistered on the ledger, and retired here.
        for row in self._rows(ledger.name).iterator(chunk_size=500):
            vehicle = row.vehicle
            recorded = ledger.world_state("GetVehicle", vehicle.vin) or {}
            if recorded.get("state") != DEREGISTERED:
                yield Problem(
                    f"vehicle {vehicle.vin}",
                    "is deregistered in the database but not on the ledger",
                )
            if vehicle.is_active or vehicle.certificates.filter(status="valid").exists():
                yield Problem(
                    f"vehicle {vehicle.vin}",
                    "is deregistered but still active or with a valid certificate",
                )

    def unconfirmed(self, *, backend: str, before: datetime) -> Iterator[Problem]:
        rows = (
            Deregistration.objects.filter(
                ledger_backend=backend,
                ledger_confirmed_at__isnull=True,
                ledger_timestamp__lt=before,
            )
            .select_related("vehicle")
            .order_by("pk")
        )
        return unconfirmed_rows(rows, where=_where_deregistration)

    def repair(self, *, change: dict[str, Any], backend: str) -> str:
        # The evidence's file was deleted with its transaction, and the ledger keeps only its
        # digest: a deregistration without its evidence would not be sound.
        raise Unrepairable(
            f"vehicle {change.get('vin')}'s deregistration evidence was discarded with its "
            "transaction and the ledger keeps only its digest: deregister the vehicle again "
            "with the same reason and evidence file (the ledger answers it from this change)."
        )


def _where_hold(hold: Hold) -> str:
    return f"hold {hold.reference} on {hold.vin} (change {hold.ledger_change_id})"


def _where_lifting(hold: Hold) -> str:
    return f"lifting of hold {hold.reference} on {hold.vin} (change {hold.lift_change_id})"


class HoldRows:
    """PlaceHold: the hold's row (its receipt in the row's ledger columns)."""

    function = _declared(HoldPlacement)

    def confirm(self, *, event: LedgerEvent) -> Outcome:
        return confirm_row(Hold.objects, event)

    def _rows(self, backend: str) -> Any:
        return (
            Hold.objects.filter(ledger_backend=backend)
            .select_related("organisation", "evidence")
            .order_by("pk")
        )

    def problems(
        self, *, backend: str, ledger_change: LedgerChange, seen: set[str]
    ) -> Iterator[Problem]:
        return mismatches(
            self._rows(backend),
            ledger_change=ledger_change,
            seen=seen,
            change_id=lambda hold: str(hold.ledger_change_id),
            where=_where_hold,
            expected=lambda hold: {**hold_record(hold).recorded(), "tx_id": hold.ledger_tx_id},
            missing="has no hold on the ledger",
            differs="differs from its ledger hold in",
        )

    def state_problems(self, *, ledger: Ledger) -> Iterator[Problem]:
        # Each hold's status here must be its state on the ledger (GetHold), which is what
        # the chaincode refuses held vehicles' registrations, transfers and clearances by.
        for hold in self._rows(ledger.name).iterator(chunk_size=500):
            recorded = ledger.world_state("GetHold", hold.reference)
            if recorded is None:
                yield Problem(f"hold {hold.reference}", "is not on the ledger")
            elif recorded.get("state") != hold.status:
                yield Problem(
                    f"hold {hold.reference}",
                    f"is {hold.status} in the database but {recorded.get('state')} on the ledger",
                )

    def unconfirmed(self, *, backend: str, before: datetime) -> Iterator[Problem]:
        rows = Hold.objects.filter(
            ledger_backend=backend, ledger_confirmed_at__isnull=True, ledger_timestamp__lt=before
        ).order_by("pk")
        return unconfirmed_rows(rows, where=_where_hold)

    def repair(self, *, change: dict[str, Any], backend: str) -> str:
        # The evidence's file was deleted with its transaction and the ledger keeps only its
        # digest: a hold without its evidence would not be sound.
        raise Unrepairable(
            f"hold {change.get('hold_id')} on {change.get('vin')} is active on the ledger but its "
            "evidence was discarded with its transaction, and the ledger keeps only its digest: "
            f"{change.get('msp_id')} places the hold again with the same evidence file: the "
            "ledger answers from this change and the hold gets its row (the vehicle stays held "
            "on the ledger meanwhile)."
        )


class HoldLiftRows:
    """LiftHold: the lifting, kept on the hold's row (the ``lift_*`` columns)."""

    function = _declared(HoldLifting)

    def confirm(self, *, event: LedgerEvent) -> Outcome:
        change_id = str(event.data().get("change_id", ""))
        hold = (
            Hold.objects.select_for_update().filter(lift_change_id=change_id).first()
            if change_id
            else None
        )
        block, tx_id = event.block, event.tx_id
        if hold is None:
            return missing(event, change_id)
        if hold.lift_ledger_tx_id != tx_id:
            return Outcome(block, tx_id, change_id, False, "recorded in another transaction")
        if hold.lift_ledger_block is not None and hold.lift_ledger_block != block:
            return Outcome(
                block, tx_id, change_id, False, f"receipt says block {hold.lift_ledger_block}"
            )
        if hold.lift_ledger_confirmed_at is not None:
            return Outcome(block, tx_id, change_id, False, "already confirmed")
        hold.lift_ledger_block = block
        hold.lift_ledger_confirmed_at = timezone.now()
        hold.save(update_fields=["lift_ledger_block", "lift_ledger_confirmed_at"])
        return Outcome(block, tx_id, change_id, True, "confirmed")

    def problems(
        self, *, backend: str, ledger_change: LedgerChange, seen: set[str]
    ) -> Iterator[Problem]:
        return mismatches(
            Hold.objects.filter(lift_ledger_backend=backend)
            .select_related("organisation", "lift_evidence")
            .order_by("pk"),
            ledger_change=ledger_change,
            seen=seen,
            change_id=lambda hold: str(hold.lift_change_id),
            where=_where_lifting,
            expected=lambda hold: {**lift_record(hold).recorded(), "tx_id": hold.lift_ledger_tx_id},
            missing="has no lifting on the ledger",
            differs="differs from its ledger lifting in",
        )

    def state_problems(self, *, ledger: Ledger) -> Iterator[Problem]:
        # A hold's current state (active or lifted) is compared once, by HoldRows.
        return iter(())

    def unconfirmed(self, *, backend: str, before: datetime) -> Iterator[Problem]:
        rows = Hold.objects.filter(
            lift_ledger_backend=backend,
            lift_ledger_confirmed_at__isnull=True,
            lift_ledger_timestamp__lt=before,
        ).order_by("pk")
        return unconfirmed_rows(rows, where=_where_lifting)

    def repair(self, *, change: dict[str, Any], backend: str) -> str:
        # Writing "lifted" without the lifting's evidence would not be sound; the office lifts
        # it again with the same file, and the ledger answers that from this change.
        raise Unrepairable(
            f"hold {change.get('hold_id')} is lifted on the ledger but its lifting evidence was "
            "discarded with its transaction, and the ledger keeps only its digest: "
            f"{change.get('msp_id')} lifts it again with the same evidence file (the ledger "
            "answers it from this change); until then the database keeps it active."
        )


def _where_mortgage(mortgage: Mortgage) -> str:
    return f"mortgage {mortgage.reference} (change {mortgage.ledger_change_id})"


def _where_release(release: MortgageReleaseRow) -> str:
    return f"release of mortgage {release.mortgage.reference} (change {release.ledger_change_id})"


class MortgageRows:
    """The lender's annotation, kept on the mortgage's row."""

    function = _declared(MortgageAnnotation)

    def confirm(self, *, event: LedgerEvent) -> Outcome:
        return confirm_row(Mortgage.objects, event)

    def _rows(self, backend: str) -> Any:
        return (
            Mortgage.objects.filter(ledger_backend=backend)
            .select_related("vehicle", "lender")
            .order_by("pk")
        )

    def problems(
        self, *, backend: str, ledger_change: LedgerChange, seen: set[str]
    ) -> Iterator[Problem]:
        return mismatches(
            self._rows(backend),
            ledger_change=ledger_change,
            seen=seen,
            change_id=lambda row: str(row.ledger_change_id),
            where=_where_mortgage,
            expected=lambda row: {**annotation_of(row).recorded(), "tx_id": row.ledger_tx_id},
            missing="has no annotation on the ledger",
            differs="differs from its ledger annotation in",
        )

    def state_problems(self, *, ledger: Ledger) -> Iterator[Problem]:
        # An annotated mortgage is the vehicle's encumbrance on the ledger, of its lender; a
        # vehicle the database holds unencumbered carries no encumbrance there.
        for mortgage in self._rows(ledger.name).iterator(chunk_size=500):
            recorded = ledger.world_state("GetEncumbrance", mortgage.vehicle.vin) or {}
            names_it = recorded.get("mortgage_id") == mortgage.reference
            if mortgage.is_active and not (
                names_it and recorded.get("lender") == mortgage.lender.code
            ):
                yield Problem(
                    f"mortgage {mortgage.reference}",
                    "is annotated in the database but not the vehicle's encumbrance on the ledger",
                )
            elif not mortgage.is_active and names_it:
                yield Problem(
                    f"mortgage {mortgage.reference}",
                    f"is {mortgage.status} in the database but encumbers the vehicle on the ledger",
                )

    def unconfirmed(self, *, backend: str, before: datetime) -> Iterator[Problem]:
        rows = Mortgage.objects.filter(
            ledger_backend=backend, ledger_confirmed_at__isnull=True, ledger_timestamp__lt=before
        ).order_by("pk")
        return unconfirmed_rows(rows, where=_where_mortgage)

    def repair(self, *, change: dict[str, Any], backend: str) -> str:
        return mortgage_annotation_repair(change=change, backend=backend)


class MortgageReleaseRows:
    """The lender's release, kept on its own row beside the mortgage."""

    function = _declared(MortgageRelease)

    def confirm(self, *, event: LedgerEvent) -> Outcome:
        return confirm_row(MortgageReleaseRow.objects, event)

    def _rows(self, backend: str) -> Any:
        return (
            MortgageReleaseRow.objects.filter(ledger_backend=backend)
            .select_related("mortgage__vehicle", "mortgage__lender")
            .order_by("pk")
        )

    def problems(
        self, *, backend: str, ledger_change: LedgerChange, seen: set[str]
    ) -> Iterator[Problem]:
        return mismatches(
            self._rows(backend),
            ledger_change=ledger_change,
            seen=seen,
            change_id=lambda row: str(row.ledger_change_id),
            where=_where_release,
            expected=lambda row: {
                **release_of(row.mortgage).recorded(),
                "tx_id": row.ledger_tx_id,
            },
            missing="has no release on the ledger",
            differs="differs from its ledger release in",
        )

    def state_problems(self, *, ledger: Ledger) -> Iterator[Problem]:
        # A release's mortgage is released in the database too (the ledger's side of it,
        # the vehicle's encumbrance, is what MortgageRows compares).
        for release in self._rows(ledger.name).iterator(chunk_size=500):
            if release.mortgage.status != Mortgage.Status.RELEASED:
                yield Problem(
                    f"mortgage {release.mortgage.reference}",
                    f"was released on the ledger but is {release.mortgage.status} in the database",
                )

    def unconfirmed(self, *, backend: str, before: datetime) -> Iterator[Problem]:
        rows = (
            MortgageReleaseRow.objects.filter(
                ledger_backend=backend,
                ledger_confirmed_at__isnull=True,
                ledger_timestamp__lt=before,
            )
            .select_related("mortgage")
            .order_by("pk")
        )
        return unconfirmed_rows(rows, where=_where_release)

    def repair(self, *, change: dict[str, Any], backend: str) -> str:
        return mortgage_release_repair(change=change, backend=backend)
