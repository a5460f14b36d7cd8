"""The receipt columns come from ledger.models.RecordedOnLedger: a document's tx id is indexed like the history rows'."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('registry', '0004_document_storage_and_anchor'),
    ]

    operations = [
        migrations.AlterField(
            model_name='document',
            name='ledger_tx_id',
            field=models.CharField(blank=True, db_index=True, max_length=128),
        ),
    ]
