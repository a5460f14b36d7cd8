"""Dealers' origin records: a new vehicle's birth record, its numbers checked once for ever.

An accredited dealer's officer records a vehicle before any owner exists (``origin_record``):
the row and the ledger's RecordOrigin, signed by the dealer (DealerMSP, the dealer named by its
certificate's ``talaan.dealer`` attribute), in one transaction. The dealer then sells it by
invitation (``registry.sales``); the buyer's acceptance makes the vehicle from the record
(``vehicle_from_origin``) and files its new registration.

The squatting rule, for numbers an owner types by hand (``hand_entry_conflicts``):

1. a VIN, engine or chassis number of any vehicle already known, active or not, is refused
   (``registry.services.vehicle_register``; a re-import is handled at the LTO office);
2. a VIN on a dealer's origin record is refused, naming the dealer: the buyer registers it
   from the dealer's sale invitation;
3. an engine or chassis number on a dealer's origin record of another VIN is refused too, but
   there may be a good reason (a replaced engine, a dealer's typing error), so the owner may
   flag it to the LTO with that reason instead: the vehicle is recorded with an open
   ``OriginFlag``, its registration cannot be approved until LTO staff clear the flag with a
   note (``origin_flag_clear``), and the LTO may reject the application instead.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Exists, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from chaincode.rules import VIN_PATTERN
from kernel.errors import Conflict, PermissionDenied
from kernel.i18n import Message, manila_date
from ledger import get_ledger
from ledger.base import VehicleOrigin, sha256_hex
from notifications.services import notify
from organisations.models import Organisation
from organisations.selectors import dealers_of, is_lto_staff, organisation_people
from registry.events import ORIGIN_REGISTERED
from registry.models import (
    ORIGIN_VEHICLE_FIELDS,
    Document,
    OriginFlag,
    OriginRecord,
    RegistrationApplication,
    Sale,
    Vehicle,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import User

_CHANGE_NAMESPACE = uuid.UUID("0b8e3a4c-5f0e-4d8e-9a57-6c3f2d1e9b40")
NUMBER_FIELDS = ("vin", "engine_number", "chassis_number")
NUMBER_LABELS = {"vin": "VIN", "engine_number": "engine number", "chassis_number": "chassis number"}
# The papers of a new registration an origin record stands for: the dealer's sales invoice
# and certificate of stock reported are on it (numbers, signed on the ledger by the dealer).
ORIGIN_SUPPLIED_DOCUMENTS = frozenset({Document.Type.SALES_INVOICE, Document.Type.CSR})


def normalised(value: str) -> str:
    """A number as stamped: no spaces, upper case."""
    return "".join(value.split()).upper()


def origin_declaration(origin: OriginRecord) -> dict[str, object]:
    """What the dealer declared, as the ledger's digest covers it."""
    return {
        **{field: getattr(origin, field) for field in ORIGIN_VEHICLE_FIELDS},
        "csr_number": origin.csr_number,
        "invoice_number": origin.invoice_number,
        "invoice_date": origin.invoice_date.isoformat(),
        "dealer": origin.dealer.code,
    }


def origin_digest(origin: OriginRecord) -> str:
    """SHA-256 of the declaration's canonical JSON: only this goes on the ledger."""
    canonical = json.dumps(origin_declaration(origin), sort_keys=True, separators=(",", ":"))
    return sha256_hex(canonical)


def origin_change_id(dealer_code: str, vin: str) -> uuid.UUID:
    """Derived from the dealer and the VIN: if the database lost an origin the ledger
    committed, the dealer's officer recording it again is answered from the ledger (and kept
    only if it declares the same), instead of refused as a second origin of the VIN."""
    return uuid.uuid5(_CHANGE_NAMESPACE, f"origin:{dealer_code}:{vin}")


def origin_ledger_record(origin: OriginRecord) -> VehicleOrigin:
    """The ledger's record of ``origin``: built for the write, and again for every check."""
    return VehicleOrigin(
        vin=origin.vin,
        record_digest=origin.record_digest,
        change_id=str(origin.ledger_change_id),
        signer_msp=origin.dealer.msp_id,
        signer_identity=origin.dealer.code,
    )


def dealer_for_officer(user: User, dealer_id: int) -> Organisation:
    """The active dealer ``user`` is an active officer (or admin) of, or refuse."""
    dealer = dealers_of(user).filter(pk=dealer_id).first()
    if dealer is None:
        raise PermissionDenied(_("Only an active officer of this accredited dealer can do this."))
    return dealer


def _known_numbers(numbers: dict[str, str]) -> dict[str, str]:
    """For each number of a vehicle or an origin record already known: what holds it."""
    taken: dict[str, str] = {}
    for field, value in numbers.items():
        label = NUMBER_LABELS[field]
        origin = OriginRecord.objects.select_related("dealer").filter(**{field: value}).first()
        if origin is not None:
            taken[field] = f"This {label} is already on {origin.dealer.name}'s origin record."
        elif Vehicle.objects.filter(**{field: value}).exists():
            taken[field] = f"A vehicle with this {label} is already known to the LTO."
    return taken


@transaction.atomic(durable=True)
def origin_record(
    *,
    officer: User,
    dealer_id: int,
    vin: str,
    engine_number: str,
    chassis_number: str,
    make: str,
    model: str,
    year: int,
    body_type: str,
    colour: str,
    fuel: str,
    csr_number: str,
    invoice_number: str,
    invoice_date: dt.date,
) -> OriginRecord:
    """A dealer's officer records a new vehicle's origin, signed on the ledger by the dealer.

    Refused, with nothing saved, unless the officer acts for the active dealer, the VIN is
    well formed, and none of its numbers is on any origin record or any vehicle known.
    """
    dealer = dealer_for_officer(officer, dealer_id)
    numbers = {
        "vin": normalised(vin),
        "engine_number": normalised(engine_number),
        "chassis_number": normalised(chassis_number),
    }
    if not VIN_PATTERN.match(numbers["vin"]):
        raise ValidationError(
            {
                "vin": _(
                    "A VIN has exactly 17 letters and digits (ISO 3779) and never uses I, O or Q."
                )
            }
        )
    taken = _known_numbers(numbers)
    if taken:
        raise ValidationError(taken)
    origin = OriginRecord(
        dealer=dealer,
        **numbers,
        make=make.strip(),
        model=model.strip(),
        year=year,
        body_type=body_type,
        colour=colour.strip(),
        fuel=fuel,
        csr_number=csr_number.strip(),
        invoice_number=invoice_number.strip(),
        invoice_date=invoice_date,
        recorded_by=officer,
        ledger_change_id=origin_change_id(dealer.code, numbers["vin"]),
    )
    if invoice_date > timezone.localdate():
        raise ValidationError({"invoice_date": _("The invoice date cannot be in the future.")})
    origin.record_digest = origin_digest(origin)
    origin.full_clean()
    try:
        # Saved before the ledger is written: a concurrent record of the same numbers waits on
        # the unique indexes here and is refused, before anything reaches the ledger.
        with transaction.atomic():
            origin.save(force_insert=True)
    except IntegrityError:
        raise Conflict(
            _("A vehicle with these numbers was recorded a moment ago; nothing was saved.")
        ) from None
    ledger = get_ledger()
    receipt = ledger.record_origin(origin_ledger_record(origin))
    if receipt.replayed:
        # The ledger holds this dealer's origin of the VIN already (its row was lost): keep it
        # only if it is this declaration.
        recorded = ledger.get_change(str(origin.ledger_change_id)) or {}
        if recorded.get("record_digest") != origin.record_digest:
            raise ValidationError(
                _(
                    "The ledger holds another declaration of this VIN by your dealership; "
                    "enter exactly what was declared, or ask the LTO. Nothing was saved."
                )
            )
    origin.record_receipt(receipt)
    origin.save(update_fields=[*OriginRecord.RECEIPT_FIELDS, "ledger_confirmed_at", "updated_at"])
    return origin


def origin_status(origin: OriginRecord) -> str:
    """Where the dealer's vehicle is: unsold, invitation sent, sold (its buyer's registration
    in progress) or registered."""
    if origin.vehicle is not None:
        return "registered" if origin.vehicle.plate_number else "sold"
    if any(sale.status == Sale.Status.AWAITING_BUYER for sale in origin.sales.all()):
        return "invitation sent"
    return "unsold"


def origins_of_dealer(dealer: Organisation) -> QuerySet[OriginRecord]:
    """A dealer's origin records, newest first, with what their status needs."""
    return (
        OriginRecord.objects.filter(dealer=dealer)
        .select_related("vehicle", "dealer", "recorded_by")
        .prefetch_related("sales")
    )


def vehicle_from_origin(origin: OriginRecord, *, owner: User) -> Vehicle:
    """The buyer's vehicle, made from the (locked) origin record's numbers: never retyped."""
    if origin.vehicle_id is not None:
        raise Conflict(
            Message(
                _("A vehicle was already made from the origin record of %(vin)s."),
                {"vin": origin.vin},
            )
        )
    clashes = [
        NUMBER_LABELS[field]
        for field in NUMBER_FIELDS
        if Vehicle.objects.filter(is_active=True, **{field: getattr(origin, field)}).exists()
    ]
    if clashes:
        raise Conflict(
            Message(
                _(
                    "A vehicle recorded by hand has this %(numbers)s; the LTO is asked to "
                    "decide which is right before this sale can go on."
                ),
                {"numbers": " and ".join(clashes)},
            )
        )
    vehicle = Vehicle(
        owner=owner, **{field: getattr(origin, field) for field in ORIGIN_VEHICLE_FIELDS}
    )
    vehicle.full_clean()
    vehicle.save(force_insert=True)
    origin.vehicle = vehicle
    origin.save(update_fields=["vehicle", "updated_at"])
    return vehicle


def supplied_by_origin(application: RegistrationApplication) -> Exists | None:
    """The one place an origin record counts for papers: an expression, true when the vehicle
    of a new registration was made from an origin record, that a query of requirements can
    annotate (so the checklist stays at two queries); None for the other types. The papers
    it stands for are ORIGIN_SUPPLIED_DOCUMENTS."""
    if application.type != RegistrationApplication.Type.NEW:
        return None
    return Exists(OriginRecord.objects.filter(vehicle_id=application.vehicle_id))


def origin_of(vehicle: Vehicle) -> OriginRecord | None:
    return OriginRecord.objects.select_related("dealer").filter(vehicle=vehicle).first()


def hand_entry_conflicts(
    numbers: dict[str, str],
) -> tuple[dict[str, str], list[tuple[str, OriginRecord]]]:
    """Rules 2 and 3 of the squatting rule for hand-typed numbers: the refusals no flag can
    lift (a VIN on an origin record), and the (field, origin record) matches an owner may
    flag to the LTO (an engine or chassis number on the origin record of another VIN)."""
    refused: dict[str, str] = {}
    flaggable: list[tuple[str, OriginRecord]] = []
    vin_origin = OriginRecord.objects.select_related("dealer").filter(vin=numbers["vin"]).first()
    if vin_origin is not None:
        refused["vin"] = (
            f"This VIN was recorded by dealer {vin_origin.dealer.name}; ask them for the sale "
            "invitation, which registers it without typing its numbers."
        )
    for field in ("engine_number", "chassis_number"):
        origin = (
            OriginRecord.objects.select_related("dealer")
            .filter(**{field: numbers[field]})
            .exclude(vin=numbers["vin"])
            .first()
        )
        if origin is not None:
            flaggable.append((field, origin))
    return refused, flaggable


def flaggable_messages(flaggable: list[tuple[str, OriginRecord]]) -> dict[str, str]:
    return {
        field: f"This {NUMBER_LABELS[field]} is on dealer {origin.dealer.name}'s origin record "
        f"of VIN {origin.vin}. If your vehicle really has it, flag it to the LTO with the reason."
        for field, origin in flaggable
    }


def origin_flag_raise(
    *, vehicle: Vehicle, flaggable: list[tuple[str, OriginRecord]], reason: str
) -> OriginFlag:
    """Record the owner's flag on their just-recorded vehicle (inside its transaction)."""
    return OriginFlag.objects.create(
        vehicle=vehicle,
        origin=flaggable[0][1],
        matched=", ".join(NUMBER_LABELS[field] for field, _flag in flaggable),
        owner_reason=reason.strip(),
    )


def open_flag(vehicle: Vehicle) -> OriginFlag | None:
    return OriginFlag.objects.filter(vehicle=vehicle, cleared_at__isnull=True).first()


@transaction.atomic(durable=True)
def origin_flag_clear(*, actor: User, application_id: int, note: str) -> OriginFlag:
    """LTO staff decide a flagged vehicle is the owner's: the flag is cleared with a note, and
    its registration can be approved. (To refuse it, the LTO rejects the application.)"""
    if not is_lto_staff(actor):
        raise PermissionDenied(_("Only LTO staff can clear a flag."))
    if not note.strip():
        raise ValidationError({"note": _("Say why the vehicle's numbers are accepted.")})
    application = RegistrationApplication.objects.filter(pk=application_id).first()
    flag = (
        OriginFlag.objects.select_for_update().filter(vehicle_id=application.vehicle_id).first()
        if application is not None
        else None
    )
    if flag is None:
        raise ValidationError(_("This application's vehicle is not flagged."))
    if not flag.is_open:
        raise Conflict(
            Message(
                _("The flag was already cleared (%(cleared_at)s)."),
                {"cleared_at": manila_date(flag.cleared_at, long=True)},
            )
        )
    flag.cleared_by, flag.cleared_at, flag.clear_note = actor, timezone.now(), note.strip()
    flag.save(update_fields=["cleared_by", "cleared_at", "clear_note", "updated_at"])
    return flag


def origin_registered(*, application: RegistrationApplication) -> None:
    """After the approval of a vehicle's first registration (locked, in its transaction):
    if the vehicle came from an origin record, its dealer's sale is complete and the dealer's
    people are told."""
    if application.type != RegistrationApplication.Type.NEW:
        return
    origin = origin_of(application.vehicle)
    if origin is None:
        return
    Sale.objects.filter(origin=origin, application=application, status=Sale.Status.ACCEPTED).update(
        status=Sale.Status.COMPLETED, ended_at=timezone.now(), updated_at=timezone.now()
    )
    notify(
        recipients=list(organisation_people(origin.dealer)),
        event=ORIGIN_REGISTERED,
        title=Message(
            pgettext_lazy("sms", "%(vehicle)s registered"),
            {"vehicle": f"{origin.year} {origin.make} {origin.model}"},
        ),
        body=Message(
            _("VIN %(vin)s is registered to its buyer, plate %(plate)s."),
            {"vin": origin.vin, "plate": application.vehicle.plate_number},
        ),
        link=reverse("dealer-origin", args=[origin.dealer.code, origin.pk]),
    )


def origin_may_see(user: User, origin: OriginRecord) -> bool:
    """The dealer's own people and LTO staff see an origin record."""
    return is_lto_staff(user) or dealers_of(user).filter(pk=origin.dealer_id).exists()
