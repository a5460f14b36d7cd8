"""Organisation, Membership and ApiKey move here from clearance, keeping their tables and rows."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from kernel.migration_ops import move_content_types


# Their content types (and so permissions and admin history) keep their ids.
MOVED = ['organisation', 'membership', 'apikey']


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('contenttypes', '0002_remove_content_type_name'),
        ('clearance', '0005_idempotency_record'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            # The tables stay as they are: only Django's idea of which app owns them moves.
            state_operations=[
                migrations.CreateModel(
                    name='Organisation',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('created_at', models.DateTimeField(auto_now_add=True, db_index=True)),
                        ('updated_at', models.DateTimeField(auto_now=True)),
                        ('kind', models.CharField(choices=[('LTO', 'LTO'), ('HPG', 'HPG'), ('INSURANCE', 'Insurance'), ('EMISSION', 'Emission')], db_index=True, max_length=12)),
                        ('code', models.SlugField(max_length=30, unique=True)),
                        ('name', models.CharField(max_length=120)),
                        ('msp_id', models.CharField(help_text='The Fabric MSP this organisation signs as.', max_length=64, verbose_name='Fabric MSP id')),
                        ('is_active', models.BooleanField(default=True)),
                    ],
                    options={
                        'db_table': 'clearance_organisation',
                        'ordering': ['kind', 'name'],
                    },
                ),
                migrations.CreateModel(
                    name='ApiKey',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('created_at', models.DateTimeField(auto_now_add=True, db_index=True)),
                        ('updated_at', models.DateTimeField(auto_now=True)),
                        ('name', models.CharField(help_text="What the key is for, e.g. 'claims system'.", max_length=80)),
                        ('prefix', models.CharField(editable=False, max_length=16, unique=True)),
                        ('secret_sha256', models.CharField(editable=False, max_length=64, verbose_name='SHA-256 of the secret')),
                        ('scopes', models.JSONField(default=list, help_text='Any of: read, decide.')),
                        ('expires_at', models.DateTimeField(blank=True, null=True)),
                        ('revoked_at', models.DateTimeField(blank=True, null=True)),
                        ('last_used_at', models.DateTimeField(blank=True, null=True)),
                        ('created_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='api_keys', to=settings.AUTH_USER_MODEL)),
                        ('organisation', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='api_keys', to='organisations.organisation')),
                    ],
                    options={
                        'verbose_name': 'API key',
                        'db_table': 'clearance_apikey',
                        'ordering': ['organisation', '-created_at'],
                    },
                ),
                migrations.CreateModel(
                    name='Membership',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('created_at', models.DateTimeField(auto_now_add=True, db_index=True)),
                        ('updated_at', models.DateTimeField(auto_now=True)),
                        ('role', models.CharField(choices=[('officer', 'Officer'), ('admin', 'Organisation admin')], default='officer', max_length=10)),
                        ('is_active', models.BooleanField(default=True)),
                        ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='memberships', to=settings.AUTH_USER_MODEL)),
                        ('organisation', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='memberships', to='organisations.organisation')),
                    ],
                    options={
                        'db_table': 'clearance_membership',
                        'constraints': [models.UniqueConstraint(fields=('user', 'organisation'), name='membership_unique')],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(
            move_content_types("clearance", "organisations", MOVED),
            move_content_types("organisations", "clearance", MOVED),
        ),
    ]
