"""Registrations about to expire: owners are reminded 30, 7 and 1 days before, once each."""

from __future__ import annotations

from datetime import date, timedelta

from django.db.models import Exists, F, OuterRef
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import npgettext_lazy

from chaincode.rules import ApplicationStatus
from kernel.i18n import Message, manila_date
from notifications.reminders import not_yet_sent, notify_once
from registry.events import REGISTRATION_EXPIRING
from registry.models import RegistrationApplication

# Days before the end of a registration period at which the owner is reminded.
EXPIRY_REMINDER_DAYS = (30, 7, 1)


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
    for key, application in not_yet_sent(keyed):
        days = (application.period_end - today).days
        vehicle = application.vehicle
        written += notify_once(
            dedupe_key=key,
            recipients=[application.applicant],
            event=REGISTRATION_EXPIRING,
            title=Message(
                npgettext_lazy(
                    "sms",
                    "Registration of %(plate)s expires in %(days)s day",
                    "Registration of %(plate)s expires in %(days)s days",
                    "days",
                ),
                {"plate": vehicle.plate_number or vehicle.vin, "days": days},
            ),
            body=Message(
                _("The registration of your %(vehicle)s ends on %(date)s. Renew it before then."),
                {
                    "vehicle": f"{vehicle.year} {vehicle.make} {vehicle.model}",
                    "date": manila_date(application.period_end, long=True),
                },
            ),
            link=reverse("application-detail", args=[application.pk]),
        )
    return written
