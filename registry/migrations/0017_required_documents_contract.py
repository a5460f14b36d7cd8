"""Contract step of 0016_required_documents: ``filed_by`` has replaced ``filed_by_seller``.

Code before 0015 reads ``filed_by_seller``; in a rolling deployment this runs only once no
such process serves any more (reversing it restores the column from ``filed_by``).
"""

from __future__ import annotations

from django.db import migrations, models


def restore(apps, schema_editor):
    Requirement = apps.get_model("registry", "DocumentRequirement")
    Requirement.objects.filter(filed_by="seller").update(filed_by_seller=True)


class Migration(migrations.Migration):
    dependencies = [("registry", "0016_required_documents")]

    operations = [
        migrations.RunPython(migrations.RunPython.noop, restore),
        migrations.RemoveField(model_name="documentrequirement", name="filed_by_seller"),
    ]
