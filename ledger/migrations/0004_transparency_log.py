"""The hash-chained log becomes a transparency log: leaves with positions, tiles, checkpoints.

Every entry written so far keeps its number, its bytes (leaf format 1, the chained one) and
its place: it is integrated in order, so its position is its number less one, and the tree
over them is the one their signed tree heads name. A first checkpoint is signed over them.
"""

import django.utils.timezone
from django.db import migrations, models

import ledger.leaves
import ledger.log

BATCH = 5000


def entries_into_the_log(apps, schema_editor):
    entry_model = apps.get_model("ledger", "LedgerEntry")
    pending = []
    for entry in entry_model.objects.order_by("seq").iterator(chunk_size=BATCH):
        entry.leaf_hash = ledger.leaves.leaf_hash(ledger.leaves.chained_content(entry))
        pending.append(entry)
        if len(pending) == BATCH:
            entry_model.objects.bulk_update(pending, ["leaf_hash"])
            pending = []
    entry_model.objects.bulk_update(pending, ["leaf_hash"])
    # The head's frontier was the same tree's right edge; the sequencer rebuilds it with the
    # tiles, from the first entry.
    apps.get_model("ledger", "LedgerHead").objects.filter(pk=1).update(size=0, frontier=[])
    tables = ledger.log.Tables(
        entry=entry_model,
        head=apps.get_model("ledger", "LedgerHead"),
        tile=apps.get_model("ledger", "LedgerTile"),
        checkpoint=apps.get_model("ledger", "LedgerCheckpoint"),
    )
    ledger.log.integrate_all(batch_size=BATCH, tables=tables)


def continue_numbering(apps, schema_editor):
    # PostgreSQL's new identity starts at 1; the next entry takes the number after the last.
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        "SELECT setval(pg_get_serial_sequence('ledger_ledgerentry', 'seq'), "
        "COALESCE(MAX(seq), 0) + 1, false) FROM ledger_ledgerentry"
    )


class Migration(migrations.Migration):
    dependencies = [("ledger", "0003_listener_checkpoint")]

    operations = [
        migrations.AddField(
            model_name="ledgerentry",
            name="leaf_version",
            field=models.PositiveSmallIntegerField(
                default=1, help_text="Format of the leaf's bytes (ledger.leaves)."
            ),
        ),
        migrations.AlterField(
            model_name="ledgerentry",
            name="leaf_version",
            field=models.PositiveSmallIntegerField(
                default=2, help_text="Format of the leaf's bytes (ledger.leaves)."
            ),
        ),
        migrations.AddField(
            model_name="ledgerentry",
            name="leaf_hash",
            field=models.CharField(
                default="", help_text="Hex SHA-256(0x00 || leaf bytes).", max_length=64
            ),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="ledgerentry",
            name="position",
            field=models.BigIntegerField(
                blank=True,
                help_text="Index in the tree, from 0; set on inclusion.",
                null=True,
                unique=True,
            ),
        ),
        migrations.AddField(
            model_name="ledgerentry",
            name="integrated_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AlterField(
            model_name="ledgerentry",
            name="prev_hash",
            field=models.CharField(blank=True, help_text="Version 1 only.", max_length=64),
        ),
        migrations.AlterField(
            model_name="ledgerentry",
            name="tree_root",
            field=models.CharField(
                blank=True, help_text="Merkle root of the tree up to this leaf.", max_length=64
            ),
        ),
        migrations.AlterField(
            model_name="ledgerentry",
            name="tree_signature",
            field=models.CharField(
                blank=True, help_text="Version 1 only: Ed25519 over its tree head.", max_length=128
            ),
        ),
        migrations.AlterField(
            model_name="ledgerentry",
            name="seq",
            field=models.BigAutoField(
                help_text="The entry's number, from 1.", primary_key=True, serialize=False
            ),
        ),
        migrations.RunPython(continue_numbering, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name="ledgerentry",
            index=models.Index(
                condition=models.Q(("position__isnull", True)),
                fields=["seq"],
                name="ledger_pending",
            ),
        ),
        migrations.CreateModel(
            name="LedgerTile",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("level", models.PositiveSmallIntegerField()),
                ("index", models.BigIntegerField()),
                ("hashes", models.BinaryField(help_text="32-byte hashes, concatenated.")),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(fields=("level", "index"), name="ledger_tile_unique")
                ]
            },
        ),
        migrations.CreateModel(
            name="LedgerCheckpoint",
            fields=[
                ("size", models.BigIntegerField(primary_key=True, serialize=False)),
                ("root", models.CharField(help_text="Hex Merkle root.", max_length=64)),
                (
                    "note",
                    models.TextField(help_text="The signed note, as served at /ledger/checkpoint."),
                ),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
            ],
            options={"ordering": ["size"]},
        ),
        migrations.RunPython(entries_into_the_log, migrations.RunPython.noop),
    ]
