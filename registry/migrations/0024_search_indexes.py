"""Indexes for search and lists at national scale (issue 17).

Each kind of search input has its own index (registry.search): the plate's unique index and
the reference's serve as they are (the query is put in their stored form), the VIN gets a
plain index (the unique one covers active vehicles only), usernames and e-mails are matched
upper-cased, and names, makes and models by substring through ``pg_trgm`` GIN indexes, which
only PostgreSQL has: the embedded SQLite skips them and scans instead.
"""

from django.contrib.postgres.indexes import GinIndex, OpClass
from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations, models
from django.db.models.functions import Upper

from kernel.db import UpperWords
from kernel.migration_ops import AddIndexOutsideState


def _trigram(*fields: str, name: str) -> GinIndex:
    """A GIN trigram index on "FIELD1 FIELD2" upper-cased, as registry.search queries it."""
    return GinIndex(OpClass(UpperWords(*fields), name="gin_trgm_ops"), name=name)


class TrigramExtensionOnPostgres(TrigramExtension):
    """Django's operation skips other databases going forwards, not backwards."""

    def database_backwards(self, app_label, schema_editor, from_state, to_state):  # type: ignore[no-untyped-def]
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("registry", "0023_plate_series"),
    ]

    operations = [
        # New indexes first, the one they replace after (15a: the old code never named it).
        migrations.AddIndex(
            model_name="registrationapplication",
            index=models.Index(fields=["-created_at", "-id"], name="application_newest_idx"),
        ),
        migrations.AddIndex(
            model_name="registrationapplication",
            index=models.Index(
                fields=["status", "-created_at", "-id"], name="application_status_idx"
            ),
        ),
        migrations.RemoveIndex(
            model_name="registrationapplication", name="registry_re_status_15e589_idx"
        ),
        migrations.AddIndex(
            model_name="vehicle", index=models.Index(fields=["vin"], name="vehicle_vin_idx")
        ),
        AddIndexOutsideState(
            "auth", "user", models.Index(Upper("username"), name="user_username_upper_idx")
        ),
        AddIndexOutsideState(
            "auth", "user", models.Index(Upper("email"), name="user_email_upper_idx")
        ),
        TrigramExtensionOnPostgres(),
        AddIndexOutsideState(
            "auth",
            "user",
            _trigram("first_name", "last_name", name="user_name_trgm_idx"),
            postgresql_only=True,
        ),
        AddIndexOutsideState(
            "registry",
            "vehicle",
            _trigram("make", "model", name="vehicle_make_model_trgm_idx"),
            postgresql_only=True,
        ),
    ]
