"""Subscriptions point at organisations.Organisation: the same table, so nothing changes in it."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('notifications', '0004_document_integrity_event'),
        ('organisations', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            # The tables stay as they are: only Django's idea of which app owns them moves.
            state_operations=[
                migrations.AlterField(
                    model_name='webhooksubscription',
                    name='organisation',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='webhook_subscriptions', to='organisations.organisation'),
                ),
            ],
            database_operations=[],
        ),
    ]
