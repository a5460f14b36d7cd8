"""IdempotencyRecord moves here from clearance, keeping its table and rows."""

from django.db import migrations, models

from kernel.migration_ops import move_content_types


# Their content types (and so permissions and admin history) keep their ids.
MOVED = ['idempotencyrecord']


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('contenttypes', '0002_remove_content_type_name'),
        ('clearance', '0005_idempotency_record'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            # The tables stay as they are: only Django's idea of which app owns them moves.
            state_operations=[
                migrations.CreateModel(
                    name='IdempotencyRecord',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('created_at', models.DateTimeField(auto_now_add=True, db_index=True)),
                        ('updated_at', models.DateTimeField(auto_now=True)),
                        ('caller', models.CharField(help_text='key:<API key id> or user:<user id>.', max_length=40)),
                        ('key', models.CharField(max_length=255)),
                        ('request_sha256', models.CharField(max_length=64, verbose_name='SHA-256 of method, path and body')),
                        ('state', models.CharField(choices=[('pending', 'In flight'), ('done', 'Response stored')], default='pending', max_length=10)),
                        ('status_code', models.PositiveSmallIntegerField(blank=True, null=True)),
                        ('content_type', models.CharField(blank=True, max_length=100)),
                        ('body', models.BinaryField(blank=True, default=b'')),
                    ],
                    options={
                        'db_table': 'clearance_idempotencyrecord',
                        'constraints': [models.UniqueConstraint(fields=('caller', 'key'), name='idempotency_key_per_caller')],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(
            move_content_types("clearance", "api", MOVED),
            move_content_types("api", "clearance", MOVED),
        ),
    ]
