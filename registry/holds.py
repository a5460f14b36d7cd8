"""Holds ("alarms"): an organisation holds a VIN for a reason, with evidence, and alone lifts it.

HPG holds a vehicle reported stolen (and lifts it when recovered); the LTO holds for an
unsettled violation, a court order or an administrative reason (chaincode.rules.HOLD_PLACERS).
While a hold is active the vehicle is not renewed, transferred, deregistered or registered
anew, and no clearance or registration of it is approved: each of those services asks
``refuse_if_held`` first, and the chaincode refuses the same on the ledger.

Placing and lifting each happen in one transaction: the evidence is stored and anchored
(``document_store``, the path every document takes), the ledger records the move (PlaceHold
or LiftHold) signed by the acting organisation's MSP, the row is written and the owner told.
The owner learns that a hold exists and which office to contact, never the reason or the
evidence: those are for the placing office and LTO staff.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from chaincode.rules import HOLD_PLACERS, VIN_PATTERN, HoldReason, OrgKind
from kernel.errors import Conflict, DomainError, PermissionDenied
from kernel.i18n import Message
from kernel.refusals import DOINGS
from ledger import get_ledger
from ledger.base import HoldLifting, HoldPlacement
from notifications.services import notify
from organisations.access import Action, Caller
from organisations.models import Organisation
from registry.document_services import document_discard, document_store
from registry.events import HOLD_LIFTED, HOLD_PLACED
from registry.models import Document, Hold, Vehicle
from registry.records import current_owner

if TYPE_CHECKING:
    from django.contrib.auth.models import User
    from django.core.files.uploadedfile import UploadedFile

    from notifications.events import NotificationEvent

logger = logging.getLogger(__name__)

_LIFT_NAMESPACE = uuid.UUID("5d0f3c8e-7a1b-4f2e-9c6d-2b8e4a1f7c30")


_PLACE_NAMESPACE = uuid.UUID("3c1f6a2e-9b47-4d0e-8a35-7f2c9e61b5d4")


def placement_identity(
    *, office: Organisation, vin: str, reason: str, evidence_sha256: str
) -> tuple[str, uuid.UUID]:
    """A hold's reference and change id, derived from what places it: the office, the VIN,
    the reason, the evidence's digest, and how many holds the office has placed on the VIN
    before. Placing it again with the same evidence after the database lost a hold the
    ledger committed is answered from the ledger, so the ledger's hold gets its row (and can
    be lifted) instead of holding the VIN with none."""
    placed_before = Hold.objects.filter(organisation=office, vin=vin).count()
    change_id = uuid.uuid5(
        _PLACE_NAMESPACE, f"hold:{office.code}:{vin}:{reason}:{evidence_sha256}:{placed_before}"
    )
    return f"HOLD-{change_id.int % 10**12:012d}", change_id


def lift_change_id(reference: str) -> uuid.UUID:
    """The lifting's change id, derived from the hold (lifted once, ever): a retry after the
    database lost a lifting the ledger committed is answered from the ledger, instead of
    refused because the ledger has the hold lifted by then."""
    return uuid.uuid5(_LIFT_NAMESPACE, f"hold-lift:{reference}")


class OnHold(DomainError):
    """The vehicle has an active hold: nothing that the hold blocks can be done now."""

    code = "on_hold"
    http_status = 409
    default_message = "The vehicle is on hold."


def active_holds(vin: str) -> QuerySet[Hold]:
    return Hold.objects.filter(vin=vin, status=Hold.Status.ACTIVE).select_related("organisation")


def is_on_hold(vin: str) -> bool:
    return active_holds(vin).exists()


def active_stolen_hold(vin: str) -> Hold | None:
    """The oldest active stolen hold on the VIN: what HPG's stolen-vehicle check reads."""
    return active_holds(vin).filter(reason=HoldReason.STOLEN).order_by("placed_at", "id").first()


def holding_offices(vin: str) -> list[Organisation]:
    """The offices holding the VIN, each once, in the order they placed their holds."""
    offices: dict[int, Organisation] = {}
    for hold in active_holds(vin).order_by("placed_at", "id"):
        offices.setdefault(hold.organisation_id, hold.organisation)
    return list(offices.values())


def hold_notice(vin: str) -> Message | None:
    """What anyone concerned with the vehicle (its owner first) is told of its holds: that a
    hold exists and whom to contact; never the reason or the evidence. None without a hold."""
    offices = holding_offices(vin)
    if not offices:
        return None
    contacts = "; ".join(office.public_contact for office in offices)
    return Message(
        _(
            "A hold exists on this vehicle: it cannot be renewed, transferred, deregistered or "
            "registered, and its applications are not decided, until the office that placed it "
            "lifts it. Contact %(contacts)s."
        ),
        {"contacts": contacts},
    )


@dataclass(frozen=True)
class HoldEvent:
    """One move of a hold, as the vehicle's history shows it to anyone who sees the vehicle."""

    at: datetime
    what: str  # "placed" or "lifted"
    hold: Hold


def hold_events(vin: str) -> list[HoldEvent]:
    """Every placing and lifting of the VIN's holds, oldest first."""
    events: list[HoldEvent] = []
    for hold in Hold.objects.filter(vin=vin).select_related("organisation"):
        events.append(HoldEvent(hold.placed_at, "placed", hold))
        if hold.lifted_at is not None:
            events.append(HoldEvent(hold.lifted_at, "lifted", hold))
    return sorted(events, key=lambda event: event.at)


def refuse_if_held(vehicle: Vehicle | str, *, doing: str) -> None:
    """Refuse (409) what a hold blocks, saying a hold exists and whom to contact."""
    vin = vehicle if isinstance(vehicle, str) else vehicle.vin
    notice = hold_notice(vin)
    if notice is not None:
        name = vin if isinstance(vehicle, str) else str(vehicle)
        raise OnHold(
            Message(
                _("%(name)s cannot be %(doing)s: %(notice)s Nothing was changed."),
                {"name": name, "doing": DOINGS.get(doing, doing), "notice": notice},
            )
        )


def reasons_of(kind: str) -> list[str]:
    """The hold reasons an organisation of this kind places (and lifts)."""
    return [reason for reason, placer in HOLD_PLACERS.items() if placer == kind]


def hold_offices(caller: Caller) -> list[Organisation]:
    """The organisations the caller places and lifts holds for (a key: its own, if allowed)."""
    if not caller.permits(Action.PLACE_HOLD):
        return []
    return [
        m.organisation
        for m in caller.memberships
        if reasons_of(m.organisation.kind) and caller.within_limit(m.organisation_id)
    ]


def holds_visible_to(caller: Caller) -> QuerySet[Hold]:
    """The holds a caller may list: their own organisations' (LTO staff: every hold)."""
    holds = Hold.objects.select_related("organisation", "vehicle")
    if caller.is_lto_staff and caller.within_limit(_lto_id(caller)):
        return holds
    return holds.filter(organisation__in=[office.pk for office in hold_offices(caller)])


def _lto_id(caller: Caller) -> int | None:
    return next(
        (m.organisation_id for m in caller.memberships if m.organisation.kind == "LTO"), None
    )


def can_see_evidence(caller: Caller, hold: Hold) -> bool:
    """The evidence is for the placing office and LTO staff only; never the owner's."""
    return caller.acts_for(hold.organisation_id) or (
        caller.is_lto_staff and caller.within_limit(_lto_id(caller))
    )


def _office_for(caller: Caller, reason: str) -> Organisation:
    placer = HOLD_PLACERS[reason]
    office = next((o for o in hold_offices(caller) if o.kind == placer), None)
    if office is None:
        raise PermissionDenied(
            f"Only {placer} officers place a {reason.replace('_', ' ')} hold."
            if placer == OrgKind.HPG
            else f"Only {placer} staff place a {reason.replace('_', ' ')} hold."
        )
    return office


def _checked(
    caller: Caller, *, vin: str, reason: str, evidence: UploadedFile | None, note: str
) -> Organisation:
    """Refuse bad input and a caller who may not place the hold, before anything is stored."""
    errors: dict[str, str] = {}
    if not VIN_PATTERN.match(vin):
        errors["vin"] = (
            "A VIN has exactly 17 letters and digits (ISO 3779) and never uses I, O or Q."
        )
    if reason not in HOLD_PLACERS:
        errors["reason"] = "Choose the reason: stolen, violation, court order or administrative."
    if evidence is None:
        errors["evidence"] = "Attach the evidence (the report, order or finding)."
    if not note.strip():
        errors["note"] = "Say what the evidence shows; the note stays with your office."
    if errors:
        raise ValidationError(errors)
    office = _office_for(caller, reason)
    if reason not in reasons_of(office.kind):
        raise ValidationError(
            {
                "reason": Message(
                    _("%(name)s does not place %(reason)s holds."),
                    {"name": office.name, "reason": reason},
                )
            }
        )
    return office


@transaction.atomic(durable=True)
def hold_place(
    *,
    officer: User,
    vin: str,
    reason: str,
    evidence: UploadedFile | None,
    note: str,
    caller: Caller | None = None,
) -> Hold:
    """An officer of the organisation the reason belongs to holds a VIN, with evidence."""
    caller = caller or Caller(officer)
    vin = vin.strip().upper()
    office = _checked(caller, vin=vin, reason=reason, evidence=evidence, note=note)
    assert evidence is not None  # checked above
    # The vehicle's row is locked so no approval or sale of it runs past the new hold.
    vehicle = Vehicle.objects.select_for_update().filter(vin=vin, is_active=True).first()
    document = document_store(
        uploader=officer,
        doc_type=Document.Type.HOLD_EVIDENCE,
        upload=evidence,
        vin=vin,
        signer_msp=office.msp_id,
    )
    try:
        return _place(
            office=office,
            officer=officer,
            vin=vin,
            vehicle=vehicle,
            reason=reason,
            evidence=document,
            note=note.strip(),
        )
    except BaseException:
        # The evidence's row goes with the transaction; its stored file must go too.
        document_discard(document)
        raise


def hold_record(hold: Hold) -> HoldPlacement:
    """What the ledger records of placing a hold, from its row."""
    return HoldPlacement(
        hold_id=hold.reference,
        vin=hold.vin,
        reason=hold.reason,
        evidence_digest=hold.evidence.sha256,
        change_id=str(hold.ledger_change_id),
        signer_msp=hold.organisation.msp_id,
    )


def lift_record(hold: Hold, *, signer_msp: str = "") -> HoldLifting:
    """What the ledger records of lifting a hold, from its row."""
    assert hold.lift_evidence is not None and hold.lift_change_id is not None
    return HoldLifting(
        hold_id=hold.reference,
        evidence_digest=hold.lift_evidence.sha256,
        change_id=str(hold.lift_change_id),
        signer_msp=signer_msp or hold.organisation.msp_id,
    )


def _place(
    *,
    office: Organisation,
    officer: User,
    vin: str,
    vehicle: Vehicle | None,
    reason: str,
    evidence: Document,
    note: str,
) -> Hold:
    hold = Hold(
        vin=vin,
        vehicle=vehicle,
        organisation=office,
        reason=reason,
        note=note,
        evidence=evidence,
        placed_by=officer,
        placed_at=timezone.now(),
    )
    # One placing at a time per office: the count in the identity must not race.
    type(office).objects.select_for_update().filter(pk=office.pk).first()
    hold.reference, hold.ledger_change_id = placement_identity(
        office=office, vin=vin, reason=reason, evidence_sha256=evidence.sha256
    )
    if Hold.objects.filter(reference=hold.reference).exists():
        raise Conflict(_("This hold is placed already; nothing was changed."))
    hold.record_receipt(get_ledger().record(hold_record(hold)))
    hold.save(force_insert=True)
    _tell_owner(
        hold,
        event=HOLD_PLACED,
        title=Message(
            pgettext_lazy("sms", "A hold was placed on %(vehicle)s"), {"vehicle": str(vehicle)}
        ),
        body=Message(
            _(
                "%(office)s placed a hold on the vehicle. While it is active the vehicle cannot "
                "be renewed, sold, transferred or deregistered, and its applications are not "
                "decided. Contact %(contact)s."
            ),
            {"office": office.name, "contact": office.public_contact},
        ),
    )
    return hold


@transaction.atomic(durable=True)
def hold_lift(
    *,
    officer: User,
    hold_id: int,
    evidence: UploadedFile | None,
    note: str,
    caller: Caller | None = None,
) -> Hold:
    """The organisation that placed a hold lifts it, with evidence (a recovery report, a
    court's lifting order, proof the violation was settled)."""
    caller = caller or Caller(officer)
    hold = Hold.objects.select_for_update().select_related("organisation").filter(pk=hold_id)
    found = hold.first()
    if found is None:
        raise ValidationError({"hold": _("No such hold.")})
    errors: dict[str, str] = {}
    if evidence is None:
        errors["evidence"] = "Attach the evidence for lifting the hold."
    if not note.strip():
        errors["note"] = "Say why the hold is lifted; the note stays with your office."
    if errors:
        raise ValidationError(errors)
    assert evidence is not None  # checked above
    if not (caller.acts_for(found.organisation_id) and caller.permits(Action.LIFT_HOLD)):
        raise PermissionDenied(
            Message(
                _("Only %(name)s, which placed hold %(reference)s, lifts it."),
                {"name": found.organisation.name, "reference": found.reference},
            )
        )
    if not found.is_active:
        raise Conflict(
            Message(
                _("Hold %(reference)s is already lifted; nothing was changed."),
                {"reference": found.reference},
            )
        )
    _check_against_the_ledger(found, evidence)
    return lift_as(found, office=found.organisation, officer=officer, evidence=evidence, note=note)


def _check_against_the_ledger(hold: Hold, evidence: UploadedFile) -> None:
    """If the ledger lifted the hold already (the database lost it with its transaction), the
    retry is answered from that change: only the same evidence file may be kept with it."""
    recorded = get_ledger().get_change(str(lift_change_id(hold.reference)))
    if recorded is None:
        return
    evidence.seek(0)
    digest = hashlib.sha256(evidence.read()).hexdigest()
    evidence.seek(0)
    if recorded.get("evidence_digest") != digest:
        raise ValidationError(
            {
                "evidence": Message(
                    _(
                        "The ledger recorded the lifting of %(reference)s already, with "
                        "another evidence file: lift it with the same file. Nothing was "
                        "changed."
                    ),
                    {"reference": hold.reference},
                )
            }
        )


def lift_as(
    hold: Hold, *, office: Organisation, officer: User, evidence: UploadedFile, note: str
) -> Hold:
    """Lift the (locked, active) hold signed as ``office``: ``hold_lift`` passes the office
    that placed it, after checking the officer acts for it; the chaincode refuses any other."""
    document = document_store(
        uploader=officer,
        doc_type=Document.Type.HOLD_LIFT_EVIDENCE,
        upload=evidence,
        vin=hold.vin,
        signer_msp=office.msp_id,
    )
    try:
        hold.lift_evidence = document
        hold.lift_change_id = lift_change_id(hold.reference)
        receipt = get_ledger().record(lift_record(hold, signer_msp=office.msp_id))
        hold.status = Hold.Status.LIFTED
        hold.lifted_by = officer
        hold.lifted_at = timezone.now()
        hold.lift_note = note.strip()
        hold.lift_ledger_backend = receipt.backend
        hold.lift_ledger_tx_id = receipt.tx_id
        hold.lift_ledger_block = receipt.block
        hold.lift_ledger_timestamp = receipt.timestamp
        if receipt.replayed and receipt.block is not None:
            hold.lift_ledger_confirmed_at = timezone.now()
        hold.save()
    except BaseException:
        document_discard(document)
        raise
    others = holding_offices(hold.vin)
    still = (
        Message(
            _("Another hold remains: contact %(contacts)s."),
            {"contacts": "; ".join(o.public_contact for o in others)},
        )
        if others
        else _("Nothing holds the vehicle any more.")
    )
    _tell_owner(
        hold,
        event=HOLD_LIFTED,
        title=Message(
            pgettext_lazy("sms", "A hold on %(vehicle)s was lifted"), {"vehicle": str(hold.vehicle)}
        ),
        body=Message(
            _("%(office)s lifted its hold on the vehicle. %(still)s"),
            {"office": hold.organisation.name, "still": still},
        ),
    )
    return hold


def _tell_owner(hold: Hold, *, event: NotificationEvent, title: Message, body: Message) -> None:
    vehicle = hold.vehicle
    if vehicle is None:
        return  # a VIN Talaan has no vehicle for has no owner to tell
    owner = current_owner(vehicle) or vehicle.owner
    notify(
        recipients=[owner],
        event=event,
        title=title,
        body=body,
        link=reverse("vehicle-ownership", args=[vehicle.pk]),
    )
