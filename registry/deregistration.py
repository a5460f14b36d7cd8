"""Deregistration is final: LTO staff take a vehicle off the register (scrapped, exported,
total loss) with evidence, and nothing registers, renews or sells it again.

The rule for work in progress: a vehicle with an application in progress (a draft included)
or a sale open is not deregistered; the owner withdraws it, or the LTO rejects or cancels it,
first. So no approval can follow a deregistration, and nothing is cancelled behind anyone's
back.

In one transaction: the evidence is stored and anchored (RecordDocument), the ledger records
the deregistration (DeregisterVehicle, signed by the LTO: the chaincode refuses any later
registration of the VIN), the valid CR is revoked, the current registration and ownership
periods end, the vehicle is retired (its numbers are never recorded again:
``registry.services.vehicle_register``) and its owner is told.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kernel.errors import Conflict
from kernel.i18n import Message, manila_date
from kernel.refusals import REASON_WORDS
from ledger import get_ledger
from ledger.base import Receipt, VehicleDeregistration
from notifications.services import notify
from organisations.access import Action, Caller
from organisations.selectors import lto_organisation
from registry import access
from registry.document_services import document_attach
from registry.events import VEHICLE_DEREGISTERED
from registry.holds import refuse_if_held
from registry.models import Deregistration, Document, Mortgage, Sale, Vehicle
from registry.records import (
    certificate_revoke,
    current_owner,
    has_application_in_progress,
    valid_certificate,
)
from registry.storage import document_storage

if TYPE_CHECKING:
    from django.contrib.auth.models import User
    from django.core.files.uploadedfile import UploadedFile

logger = logging.getLogger(__name__)

_CHANGE_NAMESPACE = uuid.UUID("0b7f4f0e-2d0c-4a51-9f51-5d3c9a7e2b64")


def deregistration_change_id(vin: str) -> uuid.UUID:
    """The deregistration's change id, derived from the VIN (deregistered once, ever): a retry
    after the database lost a deregistration the ledger committed is answered from the
    ledger, instead of refused because the ledger has the VIN deregistered by then."""
    return uuid.uuid5(_CHANGE_NAMESPACE, f"deregistration:{vin}")


def deregistration_refusal(vehicle: Vehicle) -> str | None:
    """Why nothing more can be filed for the vehicle, if it was deregistered; else None."""
    deregistration = Deregistration.objects.filter(vehicle_id=vehicle.pk).first()
    if deregistration is None:
        return None
    return (
        f"{vehicle} was deregistered on {deregistration.deregistered_on:%d %B %Y} "
        f"({deregistration.get_reason_display().lower()}): it can never be registered, "
        "renewed or sold again."
    )


def refuse_if_deregistered(vehicle: Vehicle, *, field: str = "vehicle") -> None:
    refusal = deregistration_refusal(vehicle)
    if refusal is not None:
        raise ValidationError({field: refusal})


def deregistration_record(
    *, vin: str, reason: str, evidence_digest: str, change_id: uuid.UUID, signer_msp: str = ""
) -> VehicleDeregistration:
    """What the ledger records of a deregistration: built here for the write, and again from
    the row whenever it is checked (which compares what ``recorded()`` names)."""
    return VehicleDeregistration(
        vin=vin,
        reason=reason,
        evidence_digest=evidence_digest,
        change_id=str(change_id),
        signer_msp=signer_msp,
    )


def deregistration_of(row: Deregistration) -> VehicleDeregistration:
    """The ledger record of a deregistration, from its row."""
    return deregistration_record(
        vin=row.vehicle.vin,
        reason=row.reason,
        evidence_digest=row.evidence.sha256,
        change_id=row.ledger_change_id,
    )


def _checked(vehicle: Vehicle, *, reason: str, note: str) -> None:
    """Refuse what cannot be deregistered, before anything is stored or written."""
    errors: dict[str, str] = {}
    if reason not in Deregistration.Reason.values:
        errors["reason"] = (
            "Choose why the vehicle is deregistered: scrapped, exported or total loss."
        )
    if not note.strip():
        errors["note"] = "Say what the evidence shows and who presented it."
    if errors:
        raise ValidationError(errors)
    earlier = Deregistration.objects.filter(vehicle_id=vehicle.pk).first()
    if earlier is not None:
        raise Conflict(
            Message(
                _(
                    "%(vehicle)s is deregistered already (on %(deregistered_on)s, %(reason)s): "
                    "deregistration is final and happens once."
                ),
                {
                    "vehicle": vehicle,
                    "deregistered_on": manila_date(earlier.deregistered_on, long=True),
                    "reason": str(earlier.get_reason_display()).lower(),
                },
            )
        )
    if not vehicle.is_active or valid_certificate(vehicle) is None:
        raise ValidationError(
            {
                "vehicle": Message(
                    _(
                        "%(vehicle)s is not registered (it has no valid Certificate of "
                        "Registration): only a registered vehicle is deregistered."
                    ),
                    {"vehicle": vehicle},
                )
            }
        )
    refuse_if_held(vehicle, doing="deregistered")
    if has_application_in_progress(vehicle):
        raise Conflict(
            Message(
                _(
                    "%(vehicle)s has an application in progress: the owner withdraws it, or "
                    "the LTO rejects it, before the vehicle is deregistered. Nothing was "
                    "changed."
                ),
                {"vehicle": vehicle},
            )
        )
    if Sale.objects.filter(vehicle=vehicle, status__in=Sale.OPEN).exists():
        raise Conflict(
            Message(
                _(
                    "%(vehicle)s has a sale open: the seller withdraws it, or the LTO cancels "
                    "it, before the vehicle is deregistered. Nothing was changed."
                ),
                {"vehicle": vehicle},
            )
        )
    mortgage = (
        Mortgage.objects.filter(vehicle=vehicle, status=Mortgage.Status.ANNOTATED)
        .select_related("lender")
        .first()
    )
    if mortgage is not None:
        raise Conflict(
            Message(
                _(
                    "%(vehicle)s carries chattel mortgage %(reference)s of %(name)s: the "
                    "lender releases it before the vehicle is deregistered. Nothing was "
                    "changed."
                ),
                {"vehicle": vehicle, "reference": mortgage.reference, "name": mortgage.lender.name},
            )
        )


def _check_against_the_ledger(vehicle: Vehicle, *, reason: str, evidence: UploadedFile) -> None:
    """If the ledger deregistered the VIN already (the database lost it with its transaction),
    the retry is answered from that change: only the same reason and evidence file may be
    kept with it. Checked before anything is stored or anchored."""
    recorded = get_ledger().get_change(str(deregistration_change_id(vehicle.vin)))
    if recorded is None:
        return
    evidence.seek(0)
    digest = hashlib.sha256(evidence.read()).hexdigest()
    evidence.seek(0)
    wanted = {"reason": reason, "evidence_digest": digest}
    differing = sorted(field for field, value in wanted.items() if recorded.get(field) != value)
    if differing:
        raise ValidationError(
            _(
                "The ledger recorded %(vehicle)s's deregistration already, with another "
                "%(fields)s: deregister it with the same reason and evidence file. Nothing "
                "was changed."
            ),
            params={
                "vehicle": vehicle,
                "fields": " and ".join(field.replace("_", " ") for field in differing),
            },
        )


@transaction.atomic(durable=True)
def vehicle_deregister(
    *,
    vehicle_id: int,
    actor: User,
    reason: str,
    evidence: UploadedFile,
    note: str,
    caller: Caller | None = None,
) -> Deregistration:
    """LTO staff deregister a registered vehicle for good, with the evidence and a note."""
    access.require_vehicle_action(caller or Caller(actor), Action.DEREGISTER)
    vehicle = Vehicle.objects.select_for_update().filter(pk=vehicle_id).first()
    if vehicle is None:
        raise ValidationError({"vehicle": _("No such vehicle.")})
    _checked(vehicle, reason=reason, note=note)
    _check_against_the_ledger(vehicle, reason=reason, evidence=evidence)
    certificate = valid_certificate(vehicle)
    assert certificate is not None  # checked above
    # The evidence joins the application whose approval issued the CR it ends.
    document = document_attach(
        application_id=certificate.application_id,
        uploader=actor,
        doc_type=Document.Type.DEREGISTRATION_EVIDENCE,
        upload=evidence,
    )
    try:
        return _deregister(
            vehicle=vehicle, actor=actor, reason=reason, note=note.strip(), evidence=document
        )
    except BaseException:
        # The evidence's row goes with the transaction; its stored file must go too.
        _discard(document)
        raise


def _deregister(
    *, vehicle: Vehicle, actor: User, reason: str, note: str, evidence: Document
) -> Deregistration:
    change_id = deregistration_change_id(vehicle.vin)
    record = deregistration_record(
        vin=vehicle.vin,
        reason=reason,
        evidence_digest=evidence.sha256,
        change_id=change_id,
        signer_msp=lto_organisation().msp_id,
    )
    receipt: Receipt = get_ledger().deregister_vehicle(record)
    now = timezone.now()
    today = timezone.localdate(now)
    label = str(Deregistration.Reason(reason).label).lower()
    owner = current_owner(vehicle) or vehicle.owner
    certificate = valid_certificate(vehicle)
    assert certificate is not None  # checked by the caller, under the vehicle's lock
    certificate_revoke(
        certificate=certificate,
        reason=f"Vehicle deregistered on {today:%d %B %Y} ({label}).",
        at=now,
    )
    vehicle.registration_periods.filter(valid_to__gte=today, ended_on__isnull=True).update(
        ended_on=today, updated_at=now
    )
    vehicle.ownership_periods.filter(ended_on__isnull=True).update(ended_on=today, updated_at=now)
    vehicle.is_active = False
    vehicle.save(update_fields=["is_active", "updated_at"])
    deregistration = Deregistration(
        vehicle=vehicle,
        reason=reason,
        evidence=evidence,
        note=note,
        decided_by=actor,
        deregistered_on=today,
        ledger_change_id=change_id,
    )
    deregistration.record_receipt(receipt)
    deregistration.save(force_insert=True)
    notify(
        recipients=[owner],
        event=VEHICLE_DEREGISTERED,
        title=Message(
            pgettext_lazy("sms", "%(vehicle)s was deregistered"), {"vehicle": str(vehicle)}
        ),
        body=Message(
            _(
                "The LTO deregistered it on %(date)s (%(reason)s). Certificate of Registration "
                "%(certificate)s is revoked; the vehicle may not be driven on public roads and "
                "cannot be registered again."
            ),
            {
                "date": manila_date(today, long=True),
                "reason": REASON_WORDS.get(reason, label),
                "certificate": certificate.number,
            },
        ),
        link=reverse("vehicle-ownership", args=[vehicle.pk]),
    )
    return deregistration


def _discard(document: Document) -> None:
    try:
        document_storage(document.storage_backend).delete(document.location)
    except Exception:
        logger.exception("Could not remove the evidence file %s", document.location)
