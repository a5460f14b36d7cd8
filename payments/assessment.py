"""Each application's assessment: computed on demand from the schedule in force, kept until
``ASSESSMENT_VALID_DAYS`` have passed, then made again (a late-renewal penalty depends on the
day it is paid, so an on-time renewal's assessment also ends on its due date)."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from payments.fees import compute
from payments.models import Assessment, AssessmentItem, FeeSchedule, Payment
from registry.models import RegistrationApplication
from registry.records import latest_period, renewal_outlook

# The research found no for-hire MVUC rates (only private and government ones).
FOR_HIRE_NOTE = (
    "For-hire rates were not found: the private rates are shown; the LTO assesses a for-hire "
    "vehicle at the office."
)


def schedule_in_force(day: dt.date) -> FeeSchedule | None:
    """The schedule of ``day``; when two overlap, the one that started later."""
    return (
        FeeSchedule.objects.filter(effective_from__lte=day)
        .exclude(effective_to__lt=day)
        .order_by("-effective_from", "-id")
        .first()
    )


def _renewal_due(application: RegistrationApplication) -> dt.date | None:
    """The last day a renewal is paid without penalty (the plate's due week), if known."""
    if application.type != RegistrationApplication.Type.RENEWAL:
        return None
    period = latest_period(application.vehicle)
    outlook = renewal_outlook(application.vehicle, period) if period is not None else None
    return outlook.due.last if outlook is not None else None


def _end_of(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.max))


def current(application: RegistrationApplication) -> Assessment | None:
    """The newest assessment still valid, if any (a read: nothing is computed)."""
    return (
        application.assessments.filter(valid_until__gt=timezone.now())
        .prefetch_related("items")
        .first()
    )


def latest(application: RegistrationApplication) -> Assessment | None:
    return application.assessments.prefetch_related("items").first()


def settled(application: RegistrationApplication) -> Assessment | None:
    """The assessment the applicant paid, if any: it stays the application's assessment
    (an assessment paid is never replaced by a reassessment; a full refund frees it)."""
    paid = (
        Payment.objects.filter(application_id=application.pk, status__in=Payment.SETTLED)
        .order_by("-paid_at", "-id")
        .values_list("assessment_id", flat=True)
        .first()
    )
    if paid is None:
        return None
    return application.assessments.filter(pk=paid).prefetch_related("items").first()


def assess(
    application: RegistrationApplication, *, now: dt.datetime | None = None
) -> Assessment | None:
    """The application's current assessment, made now if none is valid; None when no schedule
    is in force. A paid assessment stays the application's, past its validity; a decided
    application keeps its last assessment (nothing is owed any more)."""
    now = now or timezone.now()
    paid = settled(application)
    if paid is not None:
        return paid
    if application.status in RegistrationApplication.FINISHED:
        return latest(application)
    existing = application.assessments.filter(valid_until__gt=now).prefetch_related("items").first()
    if existing is not None:
        return existing
    today = timezone.localdate(now)
    schedule = schedule_in_force(today)
    if schedule is None:
        return None
    vehicle = application.vehicle
    due = _renewal_due(application)
    late = application.filed_late or (due is not None and today > due)
    computed = compute(
        schedule.rates.all(),
        application_type=application.type,
        body_type=vehicle.body_type,
        model_year=vehicle.year,
        gvw_kg=vehicle.gvw_kg,
        late=late,
    )
    if vehicle.classification == vehicle.Classification.FOR_HIRE:
        computed.notes.append(FOR_HIRE_NOTE)
    valid_until = now + dt.timedelta(days=settings.ASSESSMENT_VALID_DAYS)
    if due is not None and not late:
        # Paid after the due date the renewal owes the penalty: assess again then.
        valid_until = min(valid_until, _end_of(due))
    with transaction.atomic():
        assessment = Assessment.objects.create(
            application=application,
            schedule=schedule,
            computed_at=now,
            valid_until=valid_until,
            total_centavos=computed.total_centavos,
            notes="\n".join(computed.notes),
        )
        AssessmentItem.objects.bulk_create(
            AssessmentItem(
                assessment=assessment,
                position=position,
                code=line.code,
                label=line.label,
                amount_centavos=line.amount_centavos,
                source=line.source,
                confirmed=line.confirmed,
            )
            for position, line in enumerate(computed.lines)
        )
    return Assessment.objects.prefetch_related("items").get(pk=assessment.pk)
