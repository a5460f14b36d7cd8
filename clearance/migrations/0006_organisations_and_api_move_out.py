"""Organisations, memberships, API keys and idempotency records now belong to other apps."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('api', '0001_initial'),
        ('clearance', '0005_idempotency_record'),
        ('notifications', '0005_organisation_moved'),
        ('organisations', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            # The tables stay as they are: only Django's idea of which app owns them moves.
            state_operations=[
                migrations.RemoveField(
                    model_name='apikey',
                    name='created_by',
                ),
                migrations.RemoveField(
                    model_name='apikey',
                    name='organisation',
                ),
                migrations.DeleteModel(
                    name='IdempotencyRecord',
                ),
                migrations.RemoveField(
                    model_name='membership',
                    name='organisation',
                ),
                migrations.RemoveField(
                    model_name='membership',
                    name='user',
                ),
                migrations.AlterField(
                    model_name='clearancerequest',
                    name='organisation',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='clearance_requests', to='organisations.organisation'),
                ),
                migrations.AlterField(
                    model_name='clearancestatuschange',
                    name='organisation',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, to='organisations.organisation'),
                ),
                migrations.DeleteModel(
                    name='ApiKey',
                ),
                migrations.DeleteModel(
                    name='Membership',
                ),
                migrations.DeleteModel(
                    name='Organisation',
                ),
            ],
            database_operations=[],
        ),
    ]
