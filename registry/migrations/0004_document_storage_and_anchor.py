"""Documents leave the FileField for a storage backend + location, and gain their ledger anchor.

Files already uploaded stay where they are: their FileField name becomes a filesystem location.
"""

import uuid

from django.db import migrations, models


def move_files_to_locations(apps, schema_editor):
    Document = apps.get_model("registry", "Document")
    for document in Document.objects.all().iterator():
        document.public_id = uuid.uuid4()
        document.storage_backend = "filesystem"
        document.location = document.file.name
        document.save(update_fields=["public_id", "storage_backend", "location"])


def locations_back_to_files(apps, schema_editor):
    Document = apps.get_model("registry", "Document")
    for document in Document.objects.filter(storage_backend="filesystem").iterator():
        document.file = document.location
        document.save(update_fields=["file"])


class Migration(migrations.Migration):
    dependencies = [("registry", "0003_documents")]

    operations = [
        migrations.AddField(
            model_name="document",
            name="public_id",
            field=models.UUIDField(null=True, editable=False),
        ),
        migrations.AddField(
            model_name="document",
            name="storage_backend",
            field=models.CharField(
                choices=[
                    ("filesystem", "Filesystem"),
                    ("ipfs", "IPFS"),
                    ("oci", "OCI Object Storage"),
                ],
                default="filesystem",
                max_length=20,
            ),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="document",
            name="location",
            field=models.CharField(
                default="", help_text="Path, IPFS CID or object key.", max_length=300
            ),
            preserve_default=False,
        ),
        migrations.AlterField(
            model_name="document",
            name="file",
            field=models.CharField(max_length=100, blank=True),
        ),
        migrations.RunPython(move_files_to_locations, locations_back_to_files),
        migrations.RemoveField(model_name="document", name="file"),
        migrations.AlterField(
            model_name="document",
            name="public_id",
            field=models.UUIDField(editable=False, unique=True),
        ),
        migrations.AddField(
            model_name="document",
            name="encryption",
            field=models.JSONField(blank=True, default=dict),
        ),
        migrations.AddField(
            model_name="document",
            name="ledger_change_id",
            field=models.UUIDField(blank=True, null=True, unique=True),
        ),
        migrations.AddField(
            model_name="document",
            name="ledger_backend",
            field=models.CharField(blank=True, max_length=20),
        ),
        migrations.AddField(
            model_name="document",
            name="ledger_tx_id",
            field=models.CharField(blank=True, max_length=128),
        ),
        migrations.AddField(
            model_name="document",
            name="ledger_block",
            field=models.BigIntegerField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="document",
            name="ledger_timestamp",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="document",
            name="checked_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="document",
            name="check_ok",
            field=models.BooleanField(null=True),
        ),
        migrations.AddField(
            model_name="document",
            name="check_detail",
            field=models.CharField(blank=True, max_length=300),
        ),
        migrations.AlterField(
            model_name="document",
            name="media_type",
            field=models.CharField(
                help_text="Read from the content, not the name.", max_length=100
            ),
        ),
        migrations.AlterField(
            model_name="document",
            name="size",
            field=models.PositiveIntegerField(help_text="Bytes of the original file."),
        ),
        migrations.AlterField(
            model_name="document",
            name="sha256",
            field=models.CharField(
                help_text="Of the original file, before sealing.", max_length=64
            ),
        ),
        migrations.AddIndex(
            model_name="document",
            index=models.Index(fields=["check_ok"], name="document_check_idx"),
        ),
    ]
