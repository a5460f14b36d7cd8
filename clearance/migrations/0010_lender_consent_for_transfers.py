"""A transfer of ownership requires the lender's consent (the LENDER kind): data, like the
other requirements. The kind itself says a transfer needs it only while the vehicle carries
a chattel mortgage (clearance.kinds.lender)."""

from django.db import migrations

REQUIREMENTS = {"transfer": ["LENDER"]}


def seed(apps, schema_editor):
    requirement = apps.get_model("clearance", "ClearanceRequirement")
    for application_type, kinds in REQUIREMENTS.items():
        for kind in kinds:
            requirement.objects.get_or_create(application_type=application_type, kind=kind)


def unseed(apps, schema_editor):
    requirement = apps.get_model("clearance", "ClearanceRequirement")
    for application_type, kinds in REQUIREMENTS.items():
        requirement.objects.filter(application_type=application_type, kind__in=kinds).delete()


class Migration(migrations.Migration):
    dependencies = [("clearance", "0009_ledger_confirmations_and_repairs")]
    operations = [migrations.RunPython(seed, unseed)]
