"""Every state change of vehicles and registration applications, one function each."""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from typing import TYPE_CHECKING

from dateutil.relativedelta import relativedelta
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from chaincode.rules import (
    ApplicationStatus,
    TransitionNotAllowed,
    check_application_transition,
)
from kernel.errors import Conflict
from kernel.i18n import Message, manila_date
from ledger import get_ledger
from ledger.base import VehicleRegistration, actor_pseudonym, owner_pseudonym, sha256_hex
from notifications.models import WebhookEvent
from notifications.services import notify
from notifications.webhooks import emit
from organisations.access import Action, Caller
from organisations.selectors import lto_organisation, lto_staff
from registry import access, origins, plates, schedule
from registry.deregistration import refuse_if_deregistered
from registry.document_services import require_documents
from registry.events import (
    APPLICATION_CLEARED,
    APPLICATION_RETURNED,
    APPLICATION_SUBMITTED,
    REGISTRATION_APPROVED,
    REGISTRATION_REJECTED,
)
from registry.holds import refuse_if_held
from registry.models import (
    ORIGIN_VEHICLE_FIELDS,
    VEHICLE_DETAIL_FIELDS,
    ApplicationStatusChange,
    Hold,
    OriginFlag,
    OriginRecord,
    RegistrationApplication,
    Vehicle,
    default_office_id,
)
from registry.participants import approval_refusals, participants
from registry.records import (
    current_owner,
    has_application_in_progress,
    latest_period,
    records_grant,
    renewal_outlook,
    valid_certificate,
)
from registry.sales import sale_complete
from registry.transfers import transfer_keep, transfer_write
from registry.transitions import record_application_change

if TYPE_CHECKING:
    from django.contrib.auth.models import User

# How long a registration runs, by application type.


def _upper(value: str) -> str:
    return "".join(value.split()).upper()


# Letters then digits (a car's "NBC 1234"), or digits then letters (a motorcycle's "123 ABC",
# registry.models.PlateSeries.VehicleClass).
_PLATE_PARTS = re.compile(r"^([A-Z]+)(\d+)$|^(\d+)([A-Z]+)$")


def _schedulable(plate: str) -> bool:
    """Letters and digits only, with the two digits the renewal schedule is read from."""
    return bool(re.fullmatch(r"[A-Z0-9 ]+", plate)) and sum(c.isdigit() for c in plate) >= 2


def canonical_plate(value: str) -> str:
    """A plate as issued plates are written, letters, a space, digits ("NBC 1234"), or a
    motorcycle's digits, a space, letters ("123 ABC"), however it was typed ("nbc1234",
    "NBC  1234"), so one plate is never stored twice in two forms."""
    compact = _upper(value)
    parts = _PLATE_PARTS.match(compact)
    return " ".join(part for part in parts.groups() if part) if parts else compact


_TAKEN = (
    "A vehicle with this {label} is already known to the LTO; it cannot be recorded again. "
    "If it is yours, ask the LTO."
)
_DEREGISTERED = (
    "A vehicle with this {label} was deregistered by the LTO; a deregistered vehicle's "
    "numbers are never recorded again."
)


def _hand_entry_refusals(
    numbers: dict[str, str], *, exclude_pk: int | None = None
) -> tuple[dict[str, str], list[tuple[str, OriginRecord]]]:
    """The squatting rule (registry.origins) for hand-typed numbers: what is refused outright
    (a retired vehicle's number; a VIN on a dealer's origin record), and the matches with an
    origin record of another VIN an owner may flag to the LTO."""
    retired = Vehicle.objects.filter(is_active=False)
    if exclude_pk is not None:
        retired = retired.exclude(pk=exclude_pk)
    refused = {}
    for field, value in numbers.items():
        matches = retired.filter(**{field: value})
        if matches.filter(deregistration__isnull=False).exists():
            refused[field] = _DEREGISTERED.format(label=origins.NUMBER_LABELS[field])
        elif matches.exists():
            refused[field] = _TAKEN.format(label=origins.NUMBER_LABELS[field])
    on_origin, flaggable = origins.hand_entry_conflicts(numbers)
    return {**on_origin, **refused}, [(f, o) for f, o in flaggable if f not in refused]


@transaction.atomic(durable=True)
def vehicle_register(
    *,
    owner: User,
    vin: str,
    engine_number: str,
    chassis_number: str,
    make: str,
    model: str,
    year: int,
    body_type: str,
    colour: str,
    fuel: str,
    classification: str = Vehicle.Classification.PRIVATE,
    gvw_kg: int | None = None,
    flag_reason: str = "",
) -> Vehicle:
    """Record an owner's vehicle by hand; numbers are normalised, and none may belong to a
    vehicle already known, active or not: a retired vehicle's numbers never become free (so
    nobody can take over another vehicle's VIN, engine or chassis number). A dealer's origin
    record holds its numbers too: the squatting rule of ``registry.origins`` applies, and
    ``flag_reason`` files a flaggable match for the LTO to decide instead of refusing it."""
    numbers = {
        "vin": _upper(vin),
        "engine_number": _upper(engine_number),
        "chassis_number": _upper(chassis_number),
    }
    refused, flaggable = _hand_entry_refusals(numbers)
    if refused:
        raise ValidationError(refused)
    if flaggable and not flag_reason.strip():
        raise ValidationError(origins.flaggable_messages(flaggable))
    vehicle = Vehicle(
        owner=owner,
        **numbers,
        make=make.strip(),
        model=model.strip(),
        year=year,
        body_type=body_type,
        colour=colour.strip(),
        fuel=fuel,
        classification=classification,
        gvw_kg=gvw_kg,
    )
    vehicle.full_clean()
    vehicle.save(force_insert=True)
    if flaggable:
        origins.origin_flag_raise(vehicle=vehicle, flaggable=flaggable, reason=flag_reason)
    # A hold placed on the VIN before Talaan knew the vehicle now names it (its owner is told
    # when it is lifted); it blocks the vehicle by its VIN either way.
    Hold.objects.filter(vin=vehicle.vin, vehicle__isnull=True).update(vehicle=vehicle)
    return vehicle


@transaction.atomic(durable=True)
def vehicle_correct(*, application_id: int, actor: User, **fields: object) -> Vehicle:
    """The owner corrects their vehicle's details while its application is a draft or was
    returned to them; a registered vehicle (one with a plate) cannot be edited here, nor what
    a dealer's origin record declared of a vehicle made from it."""
    application = _lock_for(application_id, actor, Action.CORRECT_VEHICLE)
    if not access.is_open(Action.CORRECT_VEHICLE, application):
        raise Conflict(
            _(
                "Vehicle details can be corrected only while the application is a draft or "
                "has been returned to you."
            )
        )
    vehicle = Vehicle.objects.select_for_update().get(pk=application.vehicle_id)
    if vehicle.plate_number:
        raise Conflict(_("A registered vehicle's details are changed at the LTO office."))
    unknown = set(fields) - set(VEHICLE_DETAIL_FIELDS)
    if unknown:
        raise ValidationError(
            _("These fields cannot be changed: %(items)s."),
            params={"items": ", ".join(sorted(unknown))},
        )
    origin = origins.origin_of(vehicle)
    if origin is not None:
        declared = sorted(
            name
            for name in set(fields) & set(ORIGIN_VEHICLE_FIELDS)
            if _declared_value(name, fields[name]) != getattr(vehicle, name)
        )
        if declared:
            raise ValidationError(
                _(
                    "%(items)s: as %(name)s's origin record declares; only the dealer's "
                    "record says otherwise, through the LTO."
                ),
                params={"items": ", ".join(declared), "name": origin.dealer.name},
            )
    for name, value in fields.items():
        setattr(vehicle, name, _declared_value(name, value))
    numbers = {name: getattr(vehicle, name) for name in origins.NUMBER_FIELDS}
    if origin is None:
        refused, flaggable = _hand_entry_refusals(numbers, exclude_pk=vehicle.pk)
        # A correction raises no flag: beyond one the LTO already has, no origin may match.
        if not OriginFlag.objects.filter(vehicle=vehicle).exists():
            refused = {**origins.flaggable_messages(flaggable), **refused}
        if refused:
            raise ValidationError(refused)
    vehicle.full_clean()
    vehicle.save(update_fields=[*fields, "updated_at"])
    return vehicle


def _declared_value(name: str, value: object) -> object:
    if name in origins.NUMBER_FIELDS:
        return _upper(str(value))
    return value.strip() if isinstance(value, str) else value


def _renewal_period(
    applicant: User, vehicle: Vehicle, today: dt.date
) -> tuple[dt.date, dt.date, bool]:
    """The renewal's period and whether it is filed late, or why it cannot be filed now."""
    latest = latest_period(vehicle)
    if (
        latest is None
        or not vehicle.plate_number
        or current_owner(vehicle) != applicant
        or valid_certificate(vehicle) is None
    ):
        raise ValidationError(
            {"vehicle": _("Only the registered owner of a registered vehicle renews it.")}
        )
    motorcycle = vehicle.body_type == Vehicle.BodyType.MOTORCYCLE
    outlook = renewal_outlook(vehicle, latest)
    if outlook is None:
        raise ValidationError(
            {
                "vehicle": Message(
                    _(
                        "Plate %(plate_number)s gives no renewal schedule: ask the LTO to "
                        "renew it at the office."
                    ),
                    {"plate_number": vehicle.plate_number},
                )
            }
        )
    due, opens = outlook.due, outlook.opens
    if today < opens:
        raise Conflict(
            Message(
                _(
                    "Renewal of plate %(plate_number)s opens on %(opens)s; it is due "
                    "%(first)s to %(last)s."
                ),
                {
                    "plate_number": vehicle.plate_number,
                    "opens": manila_date(opens, long=True),
                    "first": f"{due.first:%d}",
                    "last": manila_date(due.last, long=True),
                },
            )
        )
    late = today > due.last
    # A late renewal runs from the day it is filed to the plate's next slot; an on-time one
    # continues the registration to the same slot a year on.
    start = today if late else latest.valid_to + dt.timedelta(days=1)
    end = schedule.next_slot_after(
        vehicle.plate_number, max(latest.valid_to, today), motorcycle=motorcycle
    ).last
    return start, end, late


class ApprovalRefused(Conflict):
    """Something an approval needs is missing (a participant says what: e.g. the fees are
    not paid in full). Retrying the same request cannot help until that is done."""

    code = "approval_refused"
    retryable = False
    default_message = "The registration cannot be approved yet."


def _lock(application_id: int) -> RegistrationApplication:
    return (
        RegistrationApplication.objects.select_for_update(of=("self",))
        .select_related("vehicle", "applicant")
        .get(pk=application_id)
    )


def _lock_for(application_id: int, actor: User, action: Action) -> RegistrationApplication:
    """Lock the application, then refuse unless the actor's role permits the action."""
    application = _lock(application_id)
    access.require(Caller(actor), application, action)
    return application


def _close(application: RegistrationApplication, *, actor: User, reason: str) -> None:
    for participant in participants():
        participant.application_closed(application=application, actor=actor, reason=reason)


def _link(application: RegistrationApplication) -> str:
    return reverse("application-detail", args=[application.pk])


@transaction.atomic(durable=True)
def application_create(
    *,
    applicant: User,
    vehicle_id: int,
    type: str,
    office_id: int | None = None,
    today: dt.date | None = None,
) -> RegistrationApplication:
    """Start a draft application for one of the applicant's vehicles: a first registration
    for a vehicle never registered, a renewal on the LTO's schedule for a registered one."""
    vehicle = Vehicle.objects.select_for_update().filter(pk=vehicle_id).first()
    if vehicle is not None and vehicle.owner_id == applicant.pk:
        refuse_if_deregistered(vehicle)
    if vehicle is None or not vehicle.is_active or vehicle.owner_id != applicant.pk:
        raise ValidationError({"vehicle": _("Choose one of your own active vehicles.")})
    if type not in RegistrationApplication.Type.values:
        raise ValidationError({"type": _("Choose new registration, renewal or transfer.")})
    if type == RegistrationApplication.Type.TRANSFER:
        raise ValidationError(
            {
                "type": _(
                    "A transfer of ownership starts with the seller: the registered owner "
                    "opens a sale from the vehicle's page, and the buyer's acceptance files "
                    "it."
                )
            }
        )
    refuse_if_held(
        vehicle, doing="renewed" if type == RegistrationApplication.Type.RENEWAL else "registered"
    )
    if has_application_in_progress(vehicle):
        raise Conflict(
            Message(_("%(vehicle)s already has an application in progress."), {"vehicle": vehicle})
        )
    today = today or timezone.localdate()
    if type == RegistrationApplication.Type.NEW:
        if vehicle.plate_number or vehicle.certificates.exists():
            raise ValidationError(
                {
                    "type": Message(
                        _(
                            "%(vehicle)s is already registered (plate %(plate_number)s): "
                            "renew its registration, or sell it through a transfer."
                        ),
                        {"vehicle": vehicle, "plate_number": vehicle.plate_number},
                    )
                }
            )
        # Provisional until the plate is issued: approval sets the period from the plate.
        start, end, late = today, today + relativedelta(years=3) - dt.timedelta(days=1), False
    else:
        start, end, late = _renewal_period(applicant, vehicle, today)
    application = RegistrationApplication(
        applicant=applicant,
        vehicle=vehicle,
        type=type,
        period_start=start,
        period_end=end,
        filed_late=late,
        office_id=office_id or default_office_id(),
    )
    application.full_clean()
    application.save(force_insert=True)
    return application


@transaction.atomic(durable=True)
def application_submit(*, application_id: int, actor: User) -> ApplicationStatusChange:
    """The owner files a draft with the LTO, once it has the papers its type needs."""
    application = _lock_for(application_id, actor, Action.SUBMIT)
    # An application already filed is a 409 whatever its papers; a draft needs them all.
    check_application_transition(application.status, ApplicationStatus.SUBMITTED)
    require_documents(application)
    change = record_application_change(
        application=application, to_status=ApplicationStatus.SUBMITTED, actor=actor
    )
    notify(
        recipients=lto_staff(),
        event=APPLICATION_SUBMITTED,
        title=Message(
            pgettext_lazy("sms", "New application %(reference)s"),
            {"reference": application.reference},
        ),
        body=Message(
            _("%(type)s for %(vehicle)s."),
            {"type": application.get_type_display(), "vehicle": str(application.vehicle)},
        ),
        link=_link(application),
    )
    return change


@transaction.atomic(durable=True)
def application_start_review(*, application_id: int, actor: User) -> ApplicationStatusChange:
    """An LTO evaluator takes a submitted application."""
    application = _lock_for(application_id, actor, Action.START_REVIEW)
    application.reviewer = actor
    application.save(update_fields=["reviewer", "updated_at"])
    return record_application_change(
        application=application, to_status=ApplicationStatus.UNDER_REVIEW, actor=actor
    )


@transaction.atomic(durable=True)
def application_return(*, application_id: int, actor: User, reason: str) -> ApplicationStatusChange:
    """The LTO sends an application back to the owner for corrections."""
    application = _lock_for(application_id, actor, Action.RETURN)
    if not reason.strip():
        raise ValidationError({"reason": _("Tell the owner what to correct.")})
    change = record_application_change(
        application=application,
        to_status=ApplicationStatus.RETURNED,
        actor=actor,
        reason=reason.strip(),
    )
    notify(
        recipients=[application.applicant],
        event=APPLICATION_RETURNED,
        title=Message(
            pgettext_lazy("sms", "%(reference)s needs corrections"),
            {"reference": application.reference},
        ),
        body=reason.strip(),
        link=_link(application),
    )
    return change


@transaction.atomic(durable=True)
def application_resubmit(
    *, application_id: int, actor: User, note: str = ""
) -> ApplicationStatusChange:
    """The owner files a returned application again; returned clearances go back to pending."""
    application = _lock_for(application_id, actor, Action.RESUBMIT)
    if not access.is_open(Action.RESUBMIT, application):
        # Draft -> submitted is a legal move, but it is a submission, not a resubmission.
        raise TransitionNotAllowed(
            str(
                Message(
                    _("Only a returned application can be resubmitted; this one is %(status)s."),
                    {"status": application.get_status_display()},
                )
            )
        )
    working = [p for p in participants() if p.has_live_work(application)]
    target = ApplicationStatus.AWAITING_CLEARANCES if working else ApplicationStatus.SUBMITTED
    change = record_application_change(
        application=application, to_status=target, actor=actor, reason=note.strip()
    )
    for participant in working:
        participant.application_resubmitted(application=application, actor=actor)
    if not working:
        notify(
            recipients=lto_staff(),
            event=APPLICATION_SUBMITTED,
            title=Message(
                pgettext_lazy("sms", "%(reference)s resubmitted"),
                {"reference": application.reference},
            ),
            body=note.strip(),
            link=_link(application),
        )
    return change


@transaction.atomic(durable=True)
def application_cancel(
    *, application_id: int, actor: User, reason: str = ""
) -> ApplicationStatusChange:
    """The owner withdraws an application; its open clearance requests are cancelled."""
    application = _lock_for(application_id, actor, Action.WITHDRAW)
    change = record_application_change(
        application=application,
        to_status=ApplicationStatus.CANCELLED,
        actor=actor,
        reason=reason.strip() or "Withdrawn by the owner.",
    )
    _close(application, actor=actor, reason="The owner withdrew the application.")
    return change


def _first_period_set(application: RegistrationApplication, vehicle: Vehicle) -> None:
    """A first registration runs from its approval to the issued plate's slot in the third
    year (registry.schedule); the period shown while waiting for the plate was provisional."""
    assert vehicle.plate_number  # issued just before
    start = timezone.localdate()
    application.period_start = start
    application.period_end = schedule.first_period_end(
        vehicle.plate_number, start, motorcycle=vehicle.body_type == Vehicle.BodyType.MOTORCYCLE
    )
    application.save(update_fields=["period_start", "period_end", "updated_at"])


def vehicle_digest(vehicle: Vehicle, *, owner_id: int | None = None) -> str:
    """The digest of the vehicle's record, owned by ``owner_id`` (its owner by default): an
    approval registers the vehicle in the applicant's name before the row says so."""
    # Only a digest goes on the ledger: the record itself names an owner.
    record = {
        "vin": vehicle.vin,
        "engine_number": vehicle.engine_number,
        "chassis_number": vehicle.chassis_number,
        "make": vehicle.make,
        "model": vehicle.model,
        "year": vehicle.year,
        "plate_number": vehicle.plate_number,
        "mv_file_number": vehicle.mv_file_number,
        "owner": actor_pseudonym(owner_id if owner_id is not None else vehicle.owner_id),
    }
    return sha256_hex(json.dumps(record, sort_keys=True))


# What an approval of each type would do to a held vehicle, for the refusal's message.
_HELD_DOING: dict[str, str] = {
    RegistrationApplication.Type.NEW: "registered",
    RegistrationApplication.Type.RENEWAL: "renewed",
    RegistrationApplication.Type.TRANSFER: "transferred",
}


@transaction.atomic(durable=True)
def registration_approve(
    *, application_id: int, actor: User, plate_number: str = ""
) -> ApplicationStatusChange:
    """The LTO grants a cleared application: MV file number and plate, recorded on the ledger."""
    application = _lock_for(application_id, actor, Action.APPROVE_REGISTRATION)
    # Checked before numbers are assigned, so a refusal leaves the vehicle untouched.
    check_application_transition(application.status, ApplicationStatus.APPROVED)
    refusals = approval_refusals(application)
    if refusals:
        raise ApprovalRefused(" ".join(refusals))
    flag = origins.open_flag(application.vehicle)
    if flag is not None:
        raise Conflict(
            Message(
                _(
                    "The vehicle's %(matched)s match %(name)s's origin record of VIN %(vin)s: "
                    "clear the flag with a note, or reject the application."
                ),
                {"matched": flag.matched, "name": flag.origin.dealer.name, "vin": flag.origin.vin},
            )
        )
    vehicle = Vehicle.objects.select_for_update().get(pk=application.vehicle_id)
    refuse_if_deregistered(vehicle)
    refuse_if_held(vehicle, doing=_HELD_DOING[application.type])
    fields = []
    if not vehicle.mv_file_number:
        vehicle.mv_file_number = f"1300-{vehicle.pk:011d}"
        fields.append("mv_file_number")
    wanted = canonical_plate(plate_number)
    if wanted and not _schedulable(wanted):
        raise ValidationError(
            {
                "plate_number": Message(
                    _(
                        "Plate %(wanted)s cannot be issued: a plate is letters and digits, at "
                        "least two of them (e.g. NBC 1234), from which its renewal schedule "
                        "is read."
                    ),
                    {"wanted": wanted},
                )
            }
        )
    if wanted and wanted != canonical_plate(vehicle.plate_number or ""):
        if Vehicle.objects.filter(plate_number=wanted).exclude(pk=vehicle.pk).exists():
            raise ValidationError(
                {
                    "plate_number": Message(
                        _("Plate %(wanted)s is already issued."), {"wanted": wanted}
                    )
                }
            )
        vehicle.plate_number = wanted
        fields.append("plate_number")
    elif not vehicle.plate_number:
        vehicle.plate_number = plates.plate_issue(application=application, vehicle=vehicle)
        fields.append("plate_number")
    if fields:
        try:
            # A savepoint: a plate typed by hand that another approval issued (or typed) in
            # the moment since the check above fails here on the unique index, and is the
            # same refusal as one already issued, not a server error.
            with transaction.atomic():
                vehicle.save(update_fields=[*fields, "updated_at"])
        except IntegrityError as exc:
            if "plate_number" not in str(exc):  # another constraint: not the plate's doing
                raise
            raise ValidationError(
                {
                    "plate_number": Message(
                        _("Plate %(plate_number)s is already issued."),
                        {"plate_number": vehicle.plate_number},
                    )
                }
            ) from None
    if application.type == RegistrationApplication.Type.NEW:
        _first_period_set(application, vehicle)
    application.vehicle = vehicle
    seller = current_owner(vehicle)
    buyer = application.applicant
    transfer = None
    if seller is not None and seller != buyer:
        # The change of owner goes on the ledger first: the registration below names the buyer.
        transfer = transfer_write(application=application, seller=seller)
    change_id = uuid.uuid4()
    receipt = get_ledger().register_vehicle(
        VehicleRegistration(
            vin=vehicle.vin,
            record_digest=vehicle_digest(vehicle, owner_id=buyer.pk),
            change_id=str(change_id),
            owner=owner_pseudonym(vehicle.vin, buyer.pk),
            signer_msp=lto_organisation().msp_id,
        )
    )
    change = record_application_change(
        application=application,
        to_status=ApplicationStatus.APPROVED,
        actor=actor,
        receipt=receipt,
        change_id=change_id,
    )
    granted = records_grant(application=application)
    if transfer is not None and granted.ownership is not None:
        transfer_keep(period=granted.ownership, record=transfer[0], receipt=transfer[1])
    if seller is not None and seller != buyer:
        sale_complete(application=application, seller=seller)
    origins.origin_registered(application=application)
    _emit_registration_decided(application, change)
    notify(
        recipients=[application.applicant],
        event=REGISTRATION_APPROVED,
        title=Message(
            pgettext_lazy("sms", "Registration approved: plate %(plate)s"),
            {"plate": vehicle.plate_number},
        ),
        body=Message(
            _("MV file number %(mv_file)s. Certificate of Registration %(certificate)s is ready."),
            {"mv_file": vehicle.mv_file_number, "certificate": granted.certificate.number},
        ),
        link=_link(application),
    )
    return change


@transaction.atomic(durable=True)
def registration_reject(
    *, application_id: int, actor: User, reason: str
) -> ApplicationStatusChange:
    """The LTO refuses the registration; open clearance requests are cancelled."""
    application = _lock_for(application_id, actor, Action.REJECT_REGISTRATION)
    if not reason.strip():
        raise ValidationError({"reason": _("Give the owner the reason for the rejection.")})
    change = record_application_change(
        application=application,
        to_status=ApplicationStatus.REJECTED,
        actor=actor,
        reason=reason.strip(),
    )
    _close(application, actor=actor, reason="Registration rejected.")
    _emit_registration_decided(application, change)
    notify(
        recipients=[application.applicant],
        event=REGISTRATION_REJECTED,
        title=Message(
            pgettext_lazy("sms", "Registration %(reference)s rejected"),
            {"reference": application.reference},
        ),
        body=reason.strip(),
        link=_link(application),
    )
    return change


def _emit_registration_decided(
    application: RegistrationApplication, change: ApplicationStatusChange
) -> None:
    emit(
        event=WebhookEvent.REGISTRATION_DECIDED,
        organisation_ids=[lto_organisation().pk],
        payload={
            "application_id": application.pk,
            "reference": application.reference,
            "status": change.to_status,
            "ledger_tx_id": change.ledger_tx_id,
        },
    )


def application_await_clearances(
    *, application: RegistrationApplication, actor: User
) -> ApplicationStatusChange | None:
    """The LTO sent the (locked) application out for clearance; a no-op if it already is."""
    if application.status == ApplicationStatus.AWAITING_CLEARANCES:
        return None
    return record_application_change(
        application=application,
        to_status=ApplicationStatus.AWAITING_CLEARANCES,
        actor=actor,
        reason="Sent for clearance.",
    )


def application_clear(*, application: RegistrationApplication) -> ApplicationStatusChange:
    """Every clearance the (locked) application needs is approved: it is cleared by itself."""
    change = record_application_change(
        application=application,
        to_status=ApplicationStatus.CLEARED,
        actor=None,
        reason="Every required clearance is approved.",
    )
    notify(
        recipients=[*lto_staff(), application.applicant],
        event=APPLICATION_CLEARED,
        title=Message(
            pgettext_lazy("sms", "%(reference)s is cleared"), {"reference": application.reference}
        ),
        body=_("Every required clearance is approved; the LTO will now decide the registration."),
        link=_link(application),
    )
    return change


def application_send_back(
    *, application: RegistrationApplication, actor: User, reason: str
) -> ApplicationStatusChange | None:
    """A participant (an organisation clearing it) returned the (locked) application to its
    owner; a no-op unless it was awaiting clearances."""
    if application.status != ApplicationStatus.AWAITING_CLEARANCES:
        return None
    return record_application_change(
        application=application, to_status=ApplicationStatus.RETURNED, actor=actor, reason=reason
    )
