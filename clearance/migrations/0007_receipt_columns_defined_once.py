"""The receipt columns come from ledger.models.RecordedOnLedger: blank is a form-level option, so the database is unchanged."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('clearance', '0006_organisations_and_api_move_out'),
    ]

    operations = [
        migrations.AlterField(
            model_name='clearancestatuschange',
            name='ledger_backend',
            field=models.CharField(blank=True, max_length=20),
        ),
        migrations.AlterField(
            model_name='clearancestatuschange',
            name='ledger_block',
            field=models.BigIntegerField(blank=True, null=True),
        ),
        migrations.AlterField(
            model_name='clearancestatuschange',
            name='ledger_tx_id',
            field=models.CharField(blank=True, db_index=True, max_length=128),
        ),
    ]
