"""Which clearances each application type needs, and the default emission limits.

These are data (editable in the admin), seeded with what the LTO asks for today:
new registrations need HPG, insurance and emission; renewals insurance and emission;
transfers of ownership HPG and insurance.
"""

from decimal import Decimal

from django.db import migrations

REQUIREMENTS = {
    "new": ["HPG", "INSURANCE", "EMISSION"],
    "renewal": ["INSURANCE", "EMISSION"],
    "transfer": ["HPG", "INSURANCE"],
}


def seed(apps, schema_editor):
    requirement = apps.get_model("clearance", "ClearanceRequirement")
    for application_type, kinds in REQUIREMENTS.items():
        for kind in kinds:
            requirement.objects.get_or_create(application_type=application_type, kind=kind)
    apps.get_model("clearance", "EmissionLimit").objects.get_or_create(
        fuel="",
        defaults={
            "max_co_percent": Decimal("4.50"),
            "max_hc_ppm": 600,
            "max_opacity_percent": Decimal("50.00"),
            "validity_days": 60,
        },
    )


def unseed(apps, schema_editor):
    requirement = apps.get_model("clearance", "ClearanceRequirement")
    for application_type, kinds in REQUIREMENTS.items():
        requirement.objects.filter(application_type=application_type, kind__in=kinds).delete()
    apps.get_model("clearance", "EmissionLimit").objects.filter(fuel="").delete()


class Migration(migrations.Migration):
    dependencies = [("clearance", "0001_initial")]
    operations = [migrations.RunPython(seed, unseed)]
