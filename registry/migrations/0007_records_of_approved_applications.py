"""Give every application approved before certificates existed its records.

Each approved application grants its registration period; the first approval of a vehicle
opens its owner's ownership period and issues a Certificate of Registration; a later approval
by another applicant (a transfer) closes the period, supersedes the certificate and issues the
new owner's. Dates come from the approval's history row (``decided_at`` as a fallback).
"""

from __future__ import annotations

import secrets

from django.db import migrations
from django.utils import timezone


def _number(Certificate) -> str:
    while True:
        number = "CR-" + "".join(secrets.choice("0123456789") for _ in range(10))
        if not Certificate.objects.filter(number=number).exists():
            return number


def forwards(apps, schema_editor):
    Application = apps.get_model("registry", "RegistrationApplication")
    Certificate = apps.get_model("registry", "Certificate")
    OwnershipPeriod = apps.get_model("registry", "OwnershipPeriod")
    RegistrationPeriod = apps.get_model("registry", "RegistrationPeriod")
    StatusChange = apps.get_model("registry", "ApplicationStatusChange")

    approved = Application.objects.filter(status="approved").order_by("vehicle_id", "decided_at", "pk")
    for application in approved.iterator():
        change = (
            StatusChange.objects.filter(application=application, to_status="approved")
            .order_by("created_at", "pk")
            .last()
        )
        at = (change.created_at if change else None) or application.decided_at or timezone.now()
        day = timezone.localdate(at)
        RegistrationPeriod.objects.get_or_create(
            application=application,
            defaults={
                "vehicle_id": application.vehicle_id,
                "valid_from": application.period_start,
                "valid_to": application.period_end,
            },
        )
        open_period = OwnershipPeriod.objects.filter(
            vehicle_id=application.vehicle_id, ended_on__isnull=True
        ).first()
        if open_period is None or open_period.owner_id != application.applicant_id:
            acquired = "first_registration"
            if open_period is not None:
                open_period.ended_on = max(day, open_period.started_on)
                open_period.save(update_fields=["ended_on"])
                acquired = "transfer"
            OwnershipPeriod.objects.create(
                vehicle_id=application.vehicle_id,
                owner_id=application.applicant_id,
                started_on=day,
                acquired=acquired,
                application=application,
            )
        valid = Certificate.objects.filter(
            vehicle_id=application.vehicle_id, status="valid"
        ).first()
        if valid is None or valid.owner_id != application.applicant_id:
            if valid is not None:
                valid.status, valid.ended_at = "superseded", at
                valid.save(update_fields=["status", "ended_at"])
            issued = Certificate.objects.create(
                number=_number(Certificate),
                vehicle_id=application.vehicle_id,
                owner_id=application.applicant_id,
                application=application,
                issued_at=at,
            )
            if valid is not None:
                valid.superseded_by = issued
                valid.save(update_fields=["superseded_by"])


class Migration(migrations.Migration):
    dependencies = [("registry", "0006_certificates_and_periods")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
