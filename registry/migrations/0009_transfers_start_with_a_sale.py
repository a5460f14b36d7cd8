"""Transfers start with the seller's sale now; seed what a transfer needs.

A transfer used to be filed by the current owner alone, so nobody bought and the owner never
changed. Such applications not yet sent for clearance are cancelled, with the reason shown on
the application's history (a cancellation carries no ledger receipt, as before). Those already
with the clearing organisations are left to finish: their approval keeps the owner, as it
always did.
"""

from __future__ import annotations

import uuid

from django.db import migrations
from django.utils import timezone

REASON = (
    "Transfers of ownership now start with the seller: the owner opens a sale from the "
    "vehicle's page and the buyer accepts it, which files the transfer application. This "
    "application, filed by the owner alone, was cancelled."
)
NOT_YET_SENT = ["draft", "submitted", "under_review"]
TRANSFER_NEEDS = [
    ("deed_of_sale", True),  # filed by the seller
    ("government_id", False),
    ("insurance_coc", False),
]


def forwards(apps, schema_editor):
    Application = apps.get_model("registry", "RegistrationApplication")
    StatusChange = apps.get_model("registry", "ApplicationStatusChange")
    Requirement = apps.get_model("registry", "DocumentRequirement")
    for doc_type, by_seller in TRANSFER_NEEDS:
        Requirement.objects.get_or_create(
            application_type="transfer",
            doc_type=doc_type,
            defaults={"filed_by_seller": by_seller},
        )
    now = timezone.now()
    for application in Application.objects.filter(type="transfer", status__in=NOT_YET_SENT):
        StatusChange.objects.create(
            application=application,
            change_id=uuid.uuid4(),
            from_status=application.status,
            to_status="cancelled",
            reason=REASON,
        )
        application.status = "cancelled"
        application.decided_at = now
        application.save(update_fields=["status", "decided_at"])


def backwards(apps, schema_editor):
    apps.get_model("registry", "DocumentRequirement").objects.filter(
        application_type="transfer"
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("registry", "0008_sales_and_document_requirements")]

    operations = [migrations.RunPython(forwards, backwards)]
