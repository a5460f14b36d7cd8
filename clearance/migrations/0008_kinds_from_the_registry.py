"""The kind fields take their choices from the registry of clearance kinds (clearance.kinds).

Choices are a callable, so registering a new kind changes no model state and needs no
migration; the columns and their rows are unchanged (no SQL runs).
"""

import clearance.kinds
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('clearance', '0007_receipt_columns_defined_once'),
    ]

    operations = [
        migrations.AlterField(
            model_name='clearancerequest',
            name='kind',
            field=models.CharField(choices=clearance.kinds.choices, max_length=12),
        ),
        migrations.AlterField(
            model_name='clearancerequirement',
            name='kind',
            field=models.CharField(choices=clearance.kinds.choices, max_length=12),
        ),
    ]
