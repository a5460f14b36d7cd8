"""What an approved application leaves behind: the registration period it grants, and for a
first registration or a transfer, the ownership period and Certificate of Registration (CR).

Called inside the approving service's transaction, after its ledger record: either all of it
is saved with the status change, or none of it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from registry import schedule
from registry.models import (
    Certificate,
    OwnershipPeriod,
    RegistrationApplication,
    RegistrationPeriod,
    Vehicle,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import User


@dataclass(frozen=True)
class Granted:
    period: RegistrationPeriod
    certificate: Certificate  # the vehicle's valid CR after the approval
    ownership: OwnershipPeriod | None = None  # the period the approval opened, if any


def current_owner(vehicle: Vehicle) -> User | None:
    period = vehicle.ownership_periods.filter(ended_on__isnull=True).select_related("owner").first()
    return period.owner if period is not None else None


def latest_period(vehicle: Vehicle) -> RegistrationPeriod | None:
    """The vehicle's registration period that ends last (current or expired)."""
    return vehicle.registration_periods.order_by("-valid_to", "-id").first()


@dataclass(frozen=True)
class RenewalOutlook:
    """When a registered vehicle's registration falls due and its renewal may be filed."""

    valid_to: date
    due: schedule.Slot
    opens: date

    def state(self, today: date) -> str:
        """ "not_yet" before the window opens, "open" until the slot's last day, then "late"."""
        if today < self.opens:
            return "not_yet"
        return "open" if today <= self.due.last else "late"


def renewal_outlook(vehicle: Vehicle, period: RegistrationPeriod) -> RenewalOutlook | None:
    """The renewal of the registration ``period`` ends: due at the plate's slot in the year
    the period ends, open ``RENEWAL_OPENS_DAYS_BEFORE`` days before it. None without a plate
    whose digits give a schedule (it is read from the plate)."""
    if not vehicle.plate_number:
        return None
    motorcycle = vehicle.body_type == Vehicle.BodyType.MOTORCYCLE
    try:
        due = schedule.slot_in(vehicle.plate_number, period.valid_to.year, motorcycle=motorcycle)
    except schedule.NoSchedule:
        return None  # a plate issued before plates were checked: the LTO sets its schedule
    return RenewalOutlook(valid_to=period.valid_to, due=due, opens=schedule.renewal_opens(due))


def renewal_outlooks(vehicles: Iterable[Vehicle]) -> dict[int, RenewalOutlook]:
    """Each registered vehicle's renewal outlook, from its latest period, in one query."""
    by_id = {vehicle.pk: vehicle for vehicle in vehicles if vehicle.plate_number}
    latest: dict[int, RegistrationPeriod] = {}
    for period in RegistrationPeriod.objects.filter(vehicle_id__in=by_id).order_by(
        "vehicle_id", "valid_to", "id"
    ):
        latest[period.vehicle_id] = period
    outlooks = {}
    for vehicle_id, period in latest.items():
        outlook = renewal_outlook(by_id[vehicle_id], period)
        if outlook is not None:
            outlooks[vehicle_id] = outlook
    return outlooks


def has_application_in_progress(vehicle: Vehicle) -> bool:
    return vehicle.applications.exclude(status__in=RegistrationApplication.FINISHED).exists()


def valid_certificate(vehicle: Vehicle) -> Certificate | None:
    return vehicle.certificates.filter(status=Certificate.Status.VALID).first()


def records_grant(*, application: RegistrationApplication, at: datetime | None = None) -> Granted:
    """Write the records an approval grants (the vehicle row is locked by the caller)."""
    at = at or timezone.now()
    vehicle = application.vehicle
    period = RegistrationPeriod.objects.create(
        vehicle=vehicle,
        application=application,
        valid_from=application.period_start,
        valid_to=application.period_end,
    )
    holder = application.applicant
    certificate = valid_certificate(vehicle)
    ownership = None
    if current_owner(vehicle) != holder:
        ownership = _ownership_change(
            vehicle=vehicle, application=application, new_owner=holder, at=at
        )
    if certificate is None or certificate.owner_id != holder.pk:
        certificate = _certificate_issue(vehicle=vehicle, application=application, at=at)
    return Granted(period=period, certificate=certificate, ownership=ownership)


def _ownership_change(
    *, vehicle: Vehicle, application: RegistrationApplication, new_owner: User, at: datetime
) -> OwnershipPeriod:
    today = timezone.localdate(at)
    closed = vehicle.ownership_periods.filter(ended_on__isnull=True).update(
        ended_on=today, updated_at=at
    )
    acquired = (
        OwnershipPeriod.Acquired.TRANSFER if closed else OwnershipPeriod.Acquired.FIRST_REGISTRATION
    )
    if vehicle.owner_id != new_owner.pk:
        vehicle.owner = new_owner
        vehicle.save(update_fields=["owner", "updated_at"])
    return OwnershipPeriod.objects.create(
        vehicle=vehicle,
        owner=new_owner,
        started_on=today,
        acquired=acquired,
        application=application,
    )


def _certificate_issue(
    *, vehicle: Vehicle, application: RegistrationApplication, at: datetime
) -> Certificate:
    """Issue the holder's CR; the one it replaces (if any) is superseded by it."""
    previous = valid_certificate(vehicle)
    if previous is not None:
        # Ended first: at most one valid CR per vehicle, which the database also enforces.
        previous.status = Certificate.Status.SUPERSEDED
        previous.ended_at = at
        previous.save(update_fields=["status", "ended_at", "updated_at"])
    issued = Certificate.objects.create(
        vehicle=vehicle, owner=application.applicant, application=application, issued_at=at
    )
    if previous is not None:
        previous.superseded_by = issued
        previous.save(update_fields=["superseded_by", "updated_at"])
    return issued


def certificate_revoke(
    *, certificate: Certificate, reason: str, at: datetime | None = None
) -> None:
    """Revoke a valid CR with the reason the verify page shows; its status bit is set from now
    on (registry.status_list reads the status). Never undone: a new CR is issued instead."""
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": ["Say why the certificate is revoked."]})
    updated = Certificate.objects.filter(pk=certificate.pk, status=Certificate.Status.VALID).update(
        status=Certificate.Status.REVOKED,
        ended_at=at or timezone.now(),
        revoked_reason=reason,
        updated_at=timezone.now(),
    )
    if not updated:
        raise ValidationError(_("Only a valid certificate can be revoked."))
    certificate.refresh_from_db()
