"""Scheduled reminders: clearances past their deadline and registrations about to expire.

Both jobs may run as often as wanted. Each occurrence has a dedupe key, so a rerun (or two
beat processes racing) never tells anyone twice. Each occurrence is written in its own
transaction: one bad row must not undo the reminders already written.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef, Q
from django.urls import reverse
from django.utils import timezone

from chaincode.rules import ApplicationStatus, ClearanceStatus, OrgKind
from clearance.models import ClearanceRequest
from notifications.models import Event, Notification
from notifications.services import notify
from organisations.models import Membership
from registry.models import RegistrationApplication

if TYPE_CHECKING:
    from django.contrib.auth.models import User

T = TypeVar("T")

# Days before the end of a registration period at which the owner is reminded.
EXPIRY_REMINDER_DAYS = (30, 7, 1)
_BATCH = 500


def clearances_overdue_notify(*, now: datetime | None = None) -> int:
    """Tell LTO admins and the organisation's admins about each open request past its
    deadline, once per request and deadline. Returns how many notifications were written."""
    now = now or timezone.now()
    overdue = (
        ClearanceRequest.objects.filter(
            due_at__lt=now, status__in=[ClearanceStatus.PENDING, ClearanceStatus.IN_REVIEW]
        )
        .select_related("organisation", "application")
        .order_by("due_at", "pk")
    )
    # The deadline is part of the key: if the LTO extends it, missing the new one is news.
    keyed = [(f"clearance-overdue:{r.pk}:{int(r.due_at.timestamp())}", r) for r in overdue]
    lto_admins = _admins(Q(memberships__organisation__kind=OrgKind.LTO))
    org_admins: dict[int, list[User]] = {}
    written = 0
    for key, request in _not_yet_sent(keyed):
        if request.organisation_id not in org_admins:
            org_admins[request.organisation_id] = _admins(
                Q(memberships__organisation_id=request.organisation_id)
            )
        due = timezone.localtime(request.due_at)
        written += _notify_once(
            dedupe_key=key,
            recipients=[*lto_admins, *org_admins[request.organisation_id]],
            event=Event.CLEARANCE_OVERDUE,
            title=f"{request.kind} clearance for {request.application.reference} is overdue",
            body=(
                f"{request.organisation} was due to decide by {due:%d %b %Y %H:%M}; "
                f"the request is still {request.get_status_display().lower()}."
            ),
            link=reverse("application-detail", args=[request.application_id]),
        )
    return written


def registrations_expiring_notify(*, today: date | None = None) -> int:
    """Remind owners 30, 7 and 1 days before their registration ends, once at each step.

    A run that was missed (beat down for a day) is caught up by the next one: the reminder
    for a step goes out whenever the days left fall within it and it was not sent yet.
    """
    today = today or timezone.localdate()
    renewed = RegistrationApplication.objects.filter(
        vehicle=OuterRef("vehicle"),
        status=ApplicationStatus.APPROVED,
        period_end__gt=OuterRef("period_end"),
    )
    expiring = (
        RegistrationApplication.objects.filter(
            status=ApplicationStatus.APPROVED,
            period_end__gt=today,
            period_end__lte=today + timedelta(days=max(EXPIRY_REMINDER_DAYS)),
            vehicle__is_active=True,
            # After a transfer the registration is no longer the applicant's to renew.
            vehicle__owner=F("applicant"),
        )
        .exclude(Exists(renewed))
        .select_related("vehicle", "applicant")
        .order_by("period_end", "pk")
    )
    keyed = []
    for application in expiring:
        step = min(d for d in EXPIRY_REMINDER_DAYS if d >= (application.period_end - today).days)
        keyed.append((f"registration-expiring:{application.pk}:{step}", application))
    written = 0
    for key, application in _not_yet_sent(keyed):
        days = (application.period_end - today).days
        vehicle = application.vehicle
        written += _notify_once(
            dedupe_key=key,
            recipients=[application.applicant],
            event=Event.REGISTRATION_EXPIRING,
            title=(
                f"Registration of {vehicle.plate_number or vehicle.vin} expires in "
                f"{days} day{'' if days == 1 else 's'}"
            ),
            body=(
                f"The registration of your {vehicle.year} {vehicle.make} {vehicle.model} ends "
                f"on {application.period_end:%d %B %Y}. Renew it before then."
            ),
            link=reverse("application-detail", args=[application.pk]),
        )
    return written


def _admins(where: Q) -> list[User]:
    # One filter() call, so every condition applies to the same membership row.
    return list(
        get_user_model()
        .objects.filter(
            where,
            is_active=True,
            memberships__is_active=True,
            memberships__role=Membership.Role.ADMIN,
            memberships__organisation__is_active=True,
        )
        .distinct()
        .order_by("pk")
    )


def _not_yet_sent(keyed: list[tuple[str, T]]) -> Iterator[tuple[str, T]]:
    """The (key, item) pairs whose key nobody has been notified with yet, in batches."""
    for start in range(0, len(keyed), _BATCH):
        batch = keyed[start : start + _BATCH]
        used = set(
            Notification.objects.filter(dedupe_key__in=[key for key, _ in batch]).values_list(
                "dedupe_key", flat=True
            )
        )
        yield from ((key, item) for key, item in batch if key not in used)


def _notify_once(*, dedupe_key: str, **message: Any) -> int:
    try:
        with transaction.atomic():
            return len(notify(dedupe_key=dedupe_key, **message))
    except IntegrityError:
        # A concurrent run wrote the same key first; the unique constraint kept it to once.
        return 0
