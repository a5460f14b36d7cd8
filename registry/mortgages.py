"""Chattel mortgages: a lender proposes one on a registered vehicle, the owner consents or
declines in the app, and only the same lender releases it.

The owner's consent annotates the mortgage on the ledger in the same transaction
(AnnotateMortgage, signed with the lender's identity: the lender's proposal is its instruction
to annotate once the owner agrees), so there is no "consented but not yet annotated" state in
which the vehicle could change hands unencumbered. The ledger records the reference, the VIN,
the lender (its certificate's ``talaan.lender`` attribute, the organisation's code) and the
SHA-256 of the consent statement; amounts and names stay off it.

A lender names the vehicle by plate or VIN and the owner's e-mail address: a vehicle that does
not exist, is not registered or belongs to someone else gets one neutral answer, so guessing
does not tell a lender who owns what.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet, Value
from django.db.models.functions import Replace, Upper
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from chaincode.rules import CLEARANCE_OPEN
from kernel.errors import Conflict, PermissionDenied
from kernel.i18n import Message
from ledger import get_ledger
from ledger.base import MortgageAnnotation, Receipt, sha256_hex
from ledger.base import MortgageRelease as MortgageReleaseRecord
from ledger.keepers import Unrepairable
from notifications.services import notify
from organisations.access import Action, Caller
from organisations.models import Organisation
from organisations.selectors import organisation_people
from registry import access
from registry.events import (
    MORTGAGE_ANNOTATED,
    MORTGAGE_ANSWERED,
    MORTGAGE_CONSENT_REQUESTED,
    MORTGAGE_RELEASED,
)
from registry.models import Mortgage, MortgageRelease, Sale, Vehicle
from registry.records import current_owner, valid_certificate

if TYPE_CHECKING:
    from django.contrib.auth.models import User

# The clearance kind a lender consents to a transfer with (clearance.kinds.lender): read here
# as data, since registry sits below clearance.
LENDER_CLEARANCE = "LENDER"

NEUTRAL_REFUSAL = (
    "No registered vehicle with this plate or VIN belongs to an owner with that e-mail "
    "address. Check both with the owner. Nothing was saved."
)

_CHANGE_NAMESPACE = uuid.UUID("7c0a8e52-3f6b-4d8e-9b1a-2e5d6f4a9c31")


def annotation_change_id(reference: str) -> uuid.UUID:
    """The annotation's change id, derived from the reference (annotated once, ever): a retry
    after the database lost a committed annotation is answered from the ledger."""
    return uuid.uuid5(_CHANGE_NAMESPACE, f"annotation:{reference}")


def release_change_id(reference: str) -> uuid.UUID:
    return uuid.uuid5(_CHANGE_NAMESPACE, f"release:{reference}")


def consent_statement(*, reference: str, vin: str, lender_code: str, on: date) -> str:
    """The canonical statement the owner consents to; its SHA-256 goes on the ledger. It names
    the mortgage, the vehicle, the lender and the day: never an amount or a person."""
    return (
        "talaan-chattel-mortgage-consent/v1\n"
        f"mortgage={reference}\nvin={vin}\nlender={lender_code}\ndate={on.isoformat()}\n"
    )


def consent_digest(mortgage: Mortgage, on: date) -> str:
    return sha256_hex(
        consent_statement(
            reference=mortgage.reference,
            vin=mortgage.vehicle.vin,
            lender_code=mortgage.lender.code,
            on=on,
        )
    )


def annotation_of(mortgage: Mortgage) -> MortgageAnnotation:
    """What the ledger records of a mortgage's annotation, from its row (signed by its lender)."""
    return MortgageAnnotation(
        mortgage_id=mortgage.reference,
        vin=mortgage.vehicle.vin,
        consent_digest=mortgage.consent_digest,
        change_id=str(annotation_change_id(mortgage.reference)),
        signer_msp=mortgage.lender.msp_id,
        signer_identity=mortgage.lender.code,
    )


def release_of(mortgage: Mortgage) -> MortgageReleaseRecord:
    """What the ledger records of a mortgage's release, signed by its lender."""
    return MortgageReleaseRecord(
        mortgage_id=mortgage.reference,
        change_id=str(release_change_id(mortgage.reference)),
        signer_msp=mortgage.lender.msp_id,
        signer_identity=mortgage.lender.code,
    )


def active_mortgage(vehicle: Vehicle | int) -> Mortgage | None:
    """The vehicle's annotated mortgage (it is encumbered while there is one), or None."""
    vehicle_id = vehicle if isinstance(vehicle, int) else vehicle.pk
    return (
        Mortgage.objects.select_related("lender")
        .filter(vehicle_id=vehicle_id, status=Mortgage.Status.ANNOTATED)
        .first()
    )


def mortgages_for(caller: Caller) -> QuerySet[Mortgage]:
    """The mortgages the caller may see: their lenders' own, the ones they were asked to
    consent to and those on the vehicles they own now (a buyer's, say), every one for LTO
    staff."""
    base = Mortgage.objects.select_related("vehicle", "lender", "owner", "release")
    if not caller.is_authenticated:
        return base.none()
    if caller.is_lto_staff and caller.api_key is None:
        return base
    seen = Q(lender_id__in=caller.lender_ids)
    if caller.api_key is None:
        seen |= Q(owner_id=caller.user_id) | Q(vehicle__owner_id=caller.user_id)
    return base.filter(seen)


def mortgage_get_for(caller: Caller, reference: str) -> Mortgage:
    mortgage = mortgages_for(caller).filter(reference=reference.strip().upper()).first()
    if mortgage is None:
        raise Http404(_("No such mortgage."))
    return mortgage


def _link(mortgage: Mortgage) -> str:
    return reverse("mortgage-detail", args=[mortgage.reference])


def _lender_of(caller: Caller, lender_id: int | None) -> Organisation:
    lenders = caller.lender_ids
    if not lenders or not caller.permits(Action.PROPOSE_MORTGAGE):
        raise PermissionDenied(_("Only a lender's officers propose chattel mortgages."))
    if lender_id is None and len(lenders) > 1:
        raise ValidationError({"lender": _("You act for several lenders: choose one.")})
    chosen = lender_id if lender_id is not None else next(iter(lenders))
    if chosen not in lenders:
        raise PermissionDenied(_("You do not act for that lender."))
    return Organisation.objects.get(pk=chosen)


def _vehicle_named(vehicle: str, owner_email: str) -> Vehicle:
    """The registered vehicle with this plate or VIN whose current owner has this e-mail
    address; one neutral refusal for every other case."""
    wanted = "".join(vehicle.split()).upper()
    email = owner_email.strip().lower()
    if not wanted or not email:
        raise ValidationError(
            {"vehicle": _("Give the vehicle's plate or VIN and its owner's e-mail address.")}
        )
    found = (
        Vehicle.objects.annotate(
            bare_plate=Replace(Replace(Upper("plate_number"), Value(" ")), Value("-"))
        )
        .filter(Q(vin=wanted) | Q(bare_plate=wanted.replace("-", "")), is_active=True)
        .first()
    )
    owner = current_owner(found) if found is not None else None
    if (
        found is None
        or owner is None
        or owner.email.strip().lower() != email
        or valid_certificate(found) is None
    ):
        raise ValidationError({"vehicle": NEUTRAL_REFUSAL})
    return found


@transaction.atomic(durable=True)
def mortgage_propose(
    *,
    actor: User,
    vehicle: str,
    owner_email: str,
    lender_id: int | None = None,
    caller: Caller | None = None,
) -> Mortgage:
    """A lender's officer proposes a chattel mortgage; the owner is asked to consent."""
    lender = _lender_of(caller or Caller(actor), lender_id)
    found = _vehicle_named(vehicle, owner_email)
    found = Vehicle.objects.select_for_update().get(pk=found.pk)
    if Mortgage.objects.filter(vehicle=found, status__in=Mortgage.OPEN).exists():
        raise Conflict(
            Message(
                _(
                    "%(found)s already has a chattel mortgage proposed or annotated: one at a "
                    "time. Nothing was saved."
                ),
                {"found": found},
            )
        )
    owner = current_owner(found)
    assert owner is not None  # checked by _vehicle_named
    mortgage = Mortgage.objects.create(vehicle=found, lender=lender, owner=owner, proposed_by=actor)
    notify(
        recipients=[owner],
        event=MORTGAGE_CONSENT_REQUESTED,
        title=Message(
            pgettext_lazy(
                "sms", "%(lender)s asks your consent to a chattel mortgage on %(vehicle)s"
            ),
            {"lender": lender.name, "vehicle": str(found)},
        ),
        body=Message(
            _(
                "Mortgage %(reference)s: while it is annotated your certificate says the "
                "vehicle is encumbered in favour of %(lender)s, and a transfer needs its "
                "consent. Accept or decline it in Talaan."
            ),
            {"reference": mortgage.reference, "lender": lender.name},
        ),
        link=_link(mortgage),
    )
    return mortgage


def _lock(reference: str) -> Mortgage:
    """Lock the mortgage's vehicle, then the mortgage (the order every vehicle change takes)."""
    row = Mortgage.objects.filter(reference=reference.strip().upper()).values("pk", "vehicle_id")
    found = row.first()
    if found is None:
        raise Http404(_("No such mortgage."))
    Vehicle.objects.select_for_update().get(pk=found["vehicle_id"])
    return (
        Mortgage.objects.select_for_update(of=("self",))
        .select_related("vehicle", "lender", "owner")
        .get(pk=found["pk"])
    )


def _consent_day(mortgage: Mortgage, now: datetime) -> date:
    """The day the consent statement names: today, or, when the ledger recorded this
    annotation already (the database lost it with its transaction), the day it did."""
    recorded = get_ledger().get_change(str(annotation_change_id(mortgage.reference)))
    if recorded and recorded.get("timestamp"):
        moment = datetime.fromisoformat(str(recorded["timestamp"]).replace("Z", "+00:00"))
        return timezone.localdate(moment)
    return timezone.localdate(now)


@transaction.atomic(durable=True)
def mortgage_answer(*, owner: User, reference: str, accept: bool, reason: str = "") -> Mortgage:
    """The owner consents (the lender's mortgage is annotated on the ledger at once) or
    declines."""
    mortgage = _lock(reference)
    access.require_mortgage_action(Caller(owner), mortgage, Action.CONSENT_MORTGAGE)
    if mortgage.status != Mortgage.Status.PROPOSED:
        raise Conflict(
            Message(
                _("Mortgage %(reference)s is %(status)s; nothing was changed."),
                {
                    "reference": mortgage.reference,
                    "status": str(mortgage.get_status_display()).lower(),
                },
            )
        )
    vehicle = mortgage.vehicle
    if current_owner(vehicle) != owner or valid_certificate(vehicle) is None:
        raise Conflict(
            Message(
                _("You are no longer the registered owner of %(vehicle)s; nothing was changed."),
                {"vehicle": vehicle},
            )
        )
    now = timezone.now()
    lender_people = organisation_people(mortgage.lender)
    if not accept:
        mortgage.status = Mortgage.Status.DECLINED
        mortgage.answered_at = now
        mortgage.end_reason = reason.strip()
        mortgage.save(update_fields=["status", "answered_at", "end_reason", "updated_at"])
        notify(
            recipients=lender_people,
            event=MORTGAGE_ANSWERED,
            title=Message(
                pgettext_lazy("sms", "The owner declined mortgage %(reference)s"),
                {"reference": mortgage.reference},
            ),
            body=reason.strip()
            or Message(
                _("The owner of %(vehicle)s declined the chattel mortgage."),
                {"vehicle": str(vehicle)},
            ),
            link=_link(mortgage),
        )
        return mortgage
    if Sale.objects.filter(vehicle=vehicle, status__in=Sale.OPEN).exists():
        raise Conflict(
            Message(
                _(
                    "%(vehicle)s has a sale open: withdraw it (or let the transfer finish) "
                    "before a mortgage is annotated on it. Nothing was changed."
                ),
                {"vehicle": vehicle},
            )
        )
    mortgage.consent_digest = consent_digest(mortgage, _consent_day(mortgage, now))
    mortgage.ledger_change_id = annotation_change_id(mortgage.reference)
    receipt = get_ledger().record(annotation_of(mortgage))
    mortgage.status = Mortgage.Status.ANNOTATED
    mortgage.answered_at = now
    mortgage.record_receipt(receipt)
    mortgage.save(
        update_fields=[
            "status",
            "answered_at",
            "consent_digest",
            "ledger_change_id",
            *Mortgage.RECEIPT_FIELDS,
            "ledger_confirmed_at",
            "updated_at",
        ]
    )
    notify(
        recipients=[owner],
        event=MORTGAGE_ANNOTATED,
        title=Message(
            pgettext_lazy("sms", "Mortgage %(reference)s is annotated on %(vehicle)s"),
            {"reference": mortgage.reference, "vehicle": str(vehicle)},
        ),
        body=Message(
            _(
                "Your certificate now says the vehicle is encumbered in favour of %(lender)s "
                "until the lender releases the mortgage."
            ),
            {"lender": mortgage.lender.name},
        ),
        link=_link(mortgage),
    )
    notify(
        recipients=lender_people,
        event=MORTGAGE_ANSWERED,
        title=Message(
            pgettext_lazy("sms", "The owner consented: mortgage %(reference)s is annotated"),
            {"reference": mortgage.reference},
        ),
        body=Message(
            _("%(vehicle)s is encumbered in your favour; the ledger recorded it."),
            {"vehicle": str(vehicle)},
        ),
        link=_link(mortgage),
    )
    return mortgage


@transaction.atomic(durable=True)
def mortgage_withdraw(
    *, actor: User, reference: str, reason: str = "", caller: Caller | None = None
) -> Mortgage:
    """The lender takes back a proposal the owner has not answered."""
    mortgage = _lock(reference)
    access.require_mortgage_action(caller or Caller(actor), mortgage, Action.WITHDRAW_MORTGAGE)
    if mortgage.status != Mortgage.Status.PROPOSED:
        raise Conflict(
            Message(
                _(
                    "Mortgage %(reference)s is %(status)s: only a proposal is withdrawn (an "
                    "annotated mortgage is released). Nothing was changed."
                ),
                {
                    "reference": mortgage.reference,
                    "status": str(mortgage.get_status_display()).lower(),
                },
            )
        )
    mortgage.status = Mortgage.Status.WITHDRAWN
    mortgage.end_reason = reason.strip()
    mortgage.save(update_fields=["status", "end_reason", "updated_at"])
    return mortgage


@transaction.atomic(durable=True)
def mortgage_release(*, actor: User, reference: str, caller: Caller | None = None) -> Mortgage:
    """The lender that holds the mortgage releases it (the loan is paid): the vehicle is no
    longer encumbered."""
    mortgage = _lock(reference)
    access.require_mortgage_action(caller or Caller(actor), mortgage, Action.RELEASE_MORTGAGE)
    if mortgage.status != Mortgage.Status.ANNOTATED:
        raise Conflict(
            Message(
                _(
                    "Mortgage %(reference)s is %(status)s: only an annotated mortgage is "
                    "released. Nothing was changed."
                ),
                {
                    "reference": mortgage.reference,
                    "status": str(mortgage.get_status_display()).lower(),
                },
            )
        )
    waiting = mortgage.vehicle.applications.filter(
        clearance_requests__kind=LENDER_CLEARANCE,
        clearance_requests__status__in=CLEARANCE_OPEN,
    )
    if waiting.exists():
        raise Conflict(
            Message(
                _(
                    "A transfer of %(vehicle)s waits for your consent: decide that clearance "
                    "first, then release the mortgage. Nothing was changed."
                ),
                {"vehicle": mortgage.vehicle},
            )
        )
    record = release_of(mortgage)
    receipt = get_ledger().record(record)
    now = timezone.now()
    release = MortgageRelease(
        mortgage=mortgage, released_by=actor, ledger_change_id=uuid.UUID(record.change_id)
    )
    release.record_receipt(receipt)
    release.save(force_insert=True)
    mortgage.status = Mortgage.Status.RELEASED
    mortgage.released_at = now
    mortgage.save(update_fields=["status", "released_at", "updated_at"])
    _notify_released(mortgage)
    return mortgage


def _notify_released(mortgage: Mortgage) -> None:
    owner = current_owner(mortgage.vehicle) or mortgage.owner
    notify(
        recipients=[owner, *organisation_people(mortgage.lender)],
        event=MORTGAGE_RELEASED,
        title=Message(
            pgettext_lazy("sms", "Mortgage %(reference)s on %(vehicle)s is released"),
            {"reference": mortgage.reference, "vehicle": str(mortgage.vehicle)},
        ),
        body=Message(
            _("%(lender)s released it; the vehicle is no longer encumbered."),
            {"lender": mortgage.lender.name},
        ),
        link=_link(mortgage),
    )


def _ledger_receipt(change: dict[str, Any], backend: str) -> Receipt:
    return Receipt(
        backend=backend,
        tx_id=str(change["tx_id"]),
        block=None,
        timestamp=datetime.fromisoformat(str(change["timestamp"]).replace("Z", "+00:00")),
    )


@transaction.atomic(durable=True)
def mortgage_annotation_repair(*, change: dict[str, Any], backend: str) -> str:
    """Write back an annotation the ledger committed while the owner's consent was lost with
    its transaction: only onto the proposal it names, of that vehicle and lender, whose
    consent statement for the ledger's day has the digest the ledger holds."""
    reference = str(change.get("mortgage_id", ""))
    found = Mortgage.objects.filter(reference=reference).values_list("vehicle_id", flat=True)
    if not found:
        raise Unrepairable(f"no mortgage {reference} was proposed in the database.")
    Vehicle.objects.select_for_update().get(pk=found[0])
    mortgage = (
        Mortgage.objects.select_for_update(of=("self",))
        .select_related("vehicle", "lender", "owner")
        .get(reference=reference)
    )
    if mortgage.status != Mortgage.Status.PROPOSED:
        raise Unrepairable(
            f"mortgage {reference} is {mortgage.status} in the database, not awaiting consent."
        )
    if (mortgage.vehicle.vin, mortgage.lender.code) != (change.get("vin"), change.get("lender")):
        raise Unrepairable(
            f"mortgage {reference} names another vehicle or lender than the ledger's."
        )
    receipt = _ledger_receipt(change, backend)
    day = timezone.localdate(receipt.timestamp)
    if consent_digest(mortgage, day) != change.get("consent_digest"):
        raise Unrepairable(
            f"the ledger's consent digest for mortgage {reference} is not the statement "
            "its owner was asked to consent to."
        )
    if current_owner(mortgage.vehicle) != mortgage.owner:
        raise Unrepairable(f"the owner asked to consent to {reference} no longer owns the vehicle.")
    now = timezone.now()
    mortgage.status = Mortgage.Status.ANNOTATED
    mortgage.answered_at = receipt.timestamp
    mortgage.consent_digest = str(change["consent_digest"])
    mortgage.ledger_change_id = uuid.UUID(str(change["change_id"]))
    mortgage.record_receipt(receipt)
    mortgage.ledger_confirmed_at = mortgage.repaired_from_ledger_at = now
    mortgage.save(
        update_fields=[
            "status",
            "answered_at",
            "consent_digest",
            "ledger_change_id",
            *Mortgage.RECEIPT_FIELDS,
            "ledger_confirmed_at",
            "repaired_from_ledger_at",
            "updated_at",
        ]
    )
    notify(
        recipients=[mortgage.owner, *organisation_people(mortgage.lender)],
        event=MORTGAGE_ANNOTATED,
        title=Message(
            pgettext_lazy("sms", "Mortgage %(reference)s is annotated on %(vehicle)s"),
            {"reference": reference, "vehicle": str(mortgage.vehicle)},
        ),
        body=_("The ledger recorded the owner's consent; Talaan restored it from the ledger."),
        link=_link(mortgage),
    )
    return f"mortgage {reference} annotated on vehicle {mortgage.vehicle.vin}, from the ledger"


@transaction.atomic(durable=True)
def mortgage_release_repair(*, change: dict[str, Any], backend: str) -> str:
    """Write back a release the ledger committed while the database lost it: onto the
    annotated mortgage it names, of the lender that signed it."""
    reference = str(change.get("mortgage_id", ""))
    found = Mortgage.objects.filter(reference=reference).values_list("vehicle_id", flat=True)
    if not found:
        raise Unrepairable(f"no mortgage {reference} is in the database.")
    Vehicle.objects.select_for_update().get(pk=found[0])
    mortgage = (
        Mortgage.objects.select_for_update(of=("self",))
        .select_related("vehicle", "lender", "owner")
        .get(reference=reference)
    )
    if mortgage.status != Mortgage.Status.ANNOTATED:
        raise Unrepairable(f"mortgage {reference} is {mortgage.status} in the database.")
    if mortgage.lender.code != change.get("lender"):
        raise Unrepairable(f"mortgage {reference} is held by another lender than the ledger's.")
    receipt = _ledger_receipt(change, backend)
    now = timezone.now()
    release = MortgageRelease(
        mortgage=mortgage,
        released_by=None,
        ledger_change_id=uuid.UUID(str(change["change_id"])),
    )
    release.record_receipt(receipt)
    release.ledger_confirmed_at = release.repaired_from_ledger_at = now
    release.save(force_insert=True)
    mortgage.status = Mortgage.Status.RELEASED
    mortgage.released_at = receipt.timestamp
    mortgage.save(update_fields=["status", "released_at", "updated_at"])
    _notify_released(mortgage)
    return f"mortgage {reference} released, from the ledger"
