"""A demo database made before the organisations/api split migrates forward keeping every row.

The split moves clearance.Organisation, Membership and ApiKey to the ``organisations`` app and
clearance.IdempotencyRecord to the ``api`` app, keeping their tables (clearance_*). Its data
migrations re-label the django_content_type rows instead of letting Django make new ones, so
content type ids, permissions (ids and codenames), group and user permissions and the admin
log survive. These tests load a database made by the old code, run the current code's
``migrate`` on it and compare every table, primary key by primary key.

The fixture, tests/fixtures/demo-before-organisations.sql.gz, is a gzipped plain-SQL dump of
a database made at commit 1fe5758 (with the pg_dump of PostgreSQL 15.18)::

    git worktree add /tmp/talaan-before 1fe5758 && cd /tmp/talaan-before
    DEBUG=0 SECRET_KEY=<40+ characters> scripts/with-services bash -c '
        python manage.py migrate && python manage.py load_demo &&
        python manage.py shell -c "<the additions below>" &&
        pg_dump --no-owner --no-privileges "$DATABASE_URL" | gzip -9n > <the fixture>'

where the additions, made with the ORM, are: an API key for pnp-hpg issued by hpg.admin
(``create_api_key``; load_demo makes none); one IdempotencyRecord for that key; a Group
"Registry auditors" holding view_/change_ of clearance.organisation, membership, apikey and
idempotencyrecord plus registry.view_vehicle, with insurer.officer in it; hpg.admin given
clearance.change_organisation directly; and five django_admin_log entries by lto.admin
(``LogEntry.objects.log_actions``) for the first Organisation, Membership, ApiKey,
ClearanceRequest and IdempotencyRecord. The dump starts with psql's ``\\restrict`` command
(pg_dump 15.14 and later), so loading it needs a psql at least that recent.
"""

from __future__ import annotations

import gzip
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import make_conninfo
from psycopg.rows import dict_row

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = Path(__file__).resolve().parent / "fixtures" / "demo-before-organisations.sql.gz"

# (old app_label, model) -> the app_label the content type must have after migrate.
MOVED = {
    ("clearance", "organisation"): "organisations",
    ("clearance", "membership"): "organisations",
    ("clearance", "apikey"): "organisations",
    ("clearance", "idempotencyrecord"): "api",
}
# migrate itself adds rows here: applied migrations, and the content types and permissions
# post_migrate makes for models that are new. Their old rows must still all be there.
MAY_GAIN_ROWS = {
    "django_migrations",
    "django_content_type",
    "auth_permission",
    # Reference data that data migrations seed: the lender's consent a transfer of an
    # encumbered vehicle needs (clearance 0010), and each type's required papers (registry
    # 0016). Old rows must still all be there.
    "clearance_clearancerequirement",
    "registry_documentrequirement",
}
# Tables whose rows are compared column by column (those named; None: every column).
FULL_ROWS = {
    "django_content_type": ("id", "app_label", "model"),
    "auth_permission": ("id", "codename", "content_type_id"),
    "auth_group_permissions": None,
    "auth_user_user_permissions": None,
    "django_admin_log": None,
    "django_migrations": ("id", "app", "name"),
}

pytestmark = pytest.mark.slow


@dataclass(frozen=True)
class Table:
    count: int
    # The primary key values, as tuples; None for a table without a primary key.
    keys: frozenset[tuple] | None


@dataclass(frozen=True)
class Snapshot:
    tables: dict[str, Table]
    # table -> {id: {column: value}} for the FULL_ROWS tables.
    rows: dict[str, dict[int, dict]]


@dataclass(frozen=True)
class Migrated:
    before: Snapshot
    after: Snapshot


def psql_binary() -> str:
    """The newest server version's psql, as scripts/with-services picks its server."""
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/psql"),
        key=lambda path: int(path.parent.parent.name) if path.parent.parent.name.isdigit() else 0,
    )
    found = str(versions[-1]) if versions else shutil.which("psql")
    if not found:
        pytest.fail("psql is needed to load the fixture; scripts/system-deps installs it.")
    return found


def primary_key(connection: psycopg.Connection, table: str) -> list[str]:
    rows = connection.execute(
        """
        SELECT a.attname
        FROM pg_index i
        JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
        WHERE i.indrelid = %s::regclass AND i.indisprimary
        ORDER BY array_position(i.indkey::int2[], a.attnum)
        """,
        [sql.Identifier("public", table).as_string(connection)],
    ).fetchall()
    return [name for (name,) in rows]


def snapshot(conninfo: str) -> Snapshot:
    """Every public table's row count and primary keys, and the FULL_ROWS tables' rows."""
    tables: dict[str, Table] = {}
    rows: dict[str, dict[int, dict]] = {}
    with psycopg.connect(conninfo) as connection:
        names = [
            name
            for (name,) in connection.execute(
                "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                " WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') ORDER BY c.relname"
            )
        ]
        for name in names:
            table = sql.Identifier("public", name)
            (count,) = connection.execute(
                sql.SQL("SELECT count(*) FROM {}").format(table)
            ).fetchone()
            pk = primary_key(connection, name)
            keys = None
            if pk:
                columns = sql.SQL(", ").join(map(sql.Identifier, pk))
                query = sql.SQL("SELECT {} FROM {}").format(columns, table)
                keys = frozenset(tuple(row) for row in connection.execute(query))
            tables[name] = Table(count=count, keys=keys)
        with connection.cursor(row_factory=dict_row) as cursor:
            for name, columns in FULL_ROWS.items():
                if name not in tables:
                    continue
                selected = (
                    sql.SQL(", ").join(map(sql.Identifier, columns)) if columns else sql.SQL("*")
                )
                cursor.execute(
                    sql.SQL("SELECT {} FROM {} ORDER BY id").format(
                        selected, sql.Identifier("public", name)
                    )
                )
                rows[name] = {row["id"]: row for row in cursor}
    return Snapshot(tables=tables, rows=rows)


def server_conninfo(database_url: str, dbname: str) -> str:
    settings = dj_database_url.parse(database_url)
    return make_conninfo(
        host=settings.get("HOST") or None,
        port=settings.get("PORT") or None,
        user=settings.get("USER") or None,
        password=settings.get("PASSWORD") or None,
        dbname=dbname,
    )


@pytest.fixture(scope="module")
def scratch_database() -> Iterator[tuple[str, str]]:
    """A database of its own on the suite's PostgreSQL server, dropped afterwards.

    Yields its conninfo and a DATABASE_URL for it. pytest-django's test database is left
    alone.
    """
    database_url = os.environ.get("DATABASE_URL", "")
    if not database_url.startswith(("postgres://", "postgresql://")):
        pytest.skip("needs PostgreSQL: run under scripts/with-services (make test)")
    name = f"talaan_keep_rows_{uuid.uuid4().hex[:12]}"
    admin = server_conninfo(database_url, "postgres")
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        url = urlsplit(database_url)._replace(path=f"/{name}").geturl()
        yield server_conninfo(database_url, name), url
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


@pytest.fixture(scope="module")
def migrated(scratch_database, tmp_path_factory) -> Migrated:
    """The old demo database, loaded from the fixture, before and after today's migrate."""
    conninfo, url = scratch_database
    loaded = subprocess.run(
        [psql_binary(), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", conninfo],
        input=gzip.decompress(FIXTURE.read_bytes()),
        capture_output=True,
        timeout=120,
    )
    assert loaded.returncode == 0, loaded.stderr.decode(errors="replace")[-3000:]
    before = snapshot(conninfo)

    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DEBUG": "0",
        "TALAAN_VAR_DIR": str(tmp_path_factory.mktemp("var")),
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert result.returncode == 0, (
        "migrate failed on the old demo database:\n"
        f"{result.stdout[-3000:]}\n{result.stderr[-5000:]}"
    )
    return Migrated(before=before, after=snapshot(conninfo))


def sample(keys: set[tuple], limit: int = 10) -> str:
    shown = sorted(keys, key=repr)[:limit]
    more = f" and {len(keys) - limit} more" if len(keys) > limit else ""
    return ", ".join(repr(key[0] if len(key) == 1 else key) for key in shown) + more


def moved_content_type_ids(snapshot: Snapshot) -> set[int]:
    return {
        id
        for id, row in snapshot.rows["django_content_type"].items()
        if (row["app_label"], row["model"]) in MOVED
    }


def test_the_fixture_is_a_load_demo_database_with_the_added_history(migrated):
    """Given the fixture, it has what the other tests rely on (so they cannot pass vacuously)."""
    before = migrated.before
    applied = {(row["app"], row["name"]) for row in before.rows["django_migrations"].values()}
    assert ("clearance", "0005_idempotency_record") in applied
    for table in (
        "clearance_organisation",
        "clearance_membership",
        "clearance_apikey",
        "clearance_idempotencyrecord",
        "auth_group_permissions",
        "auth_user_user_permissions",
        "django_admin_log",
    ):
        assert before.tables[table].count > 0, table
    assert len(moved_content_type_ids(before)) == len(MOVED)


def test_every_table_keeps_every_row_and_primary_key(migrated):
    """When the old demo database is migrated, no table loses or gains a row.

    New tables may appear; the tables migrate itself writes to may only gain rows.
    """
    before, after = migrated.before, migrated.after
    problems = []
    for name, old in sorted(before.tables.items()):
        new = after.tables.get(name)
        if new is None:
            problems.append(f"{name}: the table is gone ({old.count} rows)")
            continue
        if old.keys is None or new.keys is None:
            # No primary key to compare by (none in the fixture today): compare counts.
            if new.count != old.count:
                problems.append(f"{name} (no primary key): {old.count} rows, now {new.count}")
            continue
        lost, gained = old.keys - new.keys, new.keys - old.keys
        if lost:
            problems.append(f"{name}: lost {len(lost)} rows, primary keys {sample(lost)}")
        if gained and name not in MAY_GAIN_ROWS:
            problems.append(f"{name}: gained {len(gained)} rows, primary keys {sample(gained)}")
    assert not problems, "migrate changed the old rows:\n" + "\n".join(problems)


def test_content_types_keep_their_ids_and_only_the_moved_models_change_app(migrated):
    """Every content type keeps its id and model; only the moved models change app_label.

    And each moved model has exactly one content type, the re-labelled old one.
    """
    old_rows = migrated.before.rows["django_content_type"]
    new_rows = migrated.after.rows["django_content_type"]
    problems = []
    for id, old in old_rows.items():
        new = new_rows.get(id)
        expected = {
            **old,
            "app_label": MOVED.get((old["app_label"], old["model"]), old["app_label"]),
        }
        if new != expected:
            problems.append(f"content type {id}: expected {expected}, found {new}")
    for (old_label, model), new_label in sorted(MOVED.items()):
        (old_id,) = [
            id
            for id, row in old_rows.items()
            if (row["app_label"], row["model"]) == (old_label, model)
        ]
        found = sorted(
            id
            for id, row in new_rows.items()
            if (row["app_label"], row["model"]) == (new_label, model)
        )
        if found != [old_id]:
            problems.append(
                f"{new_label}.{model}: expected the one content type {old_id}, found {found}"
            )
    assert not problems, "\n".join(problems)


def test_no_second_content_type_or_permission_appears_for_a_moved_model(migrated):
    """Given post_migrate makes content types for new models, none is made for a moved one."""
    moved = {(label, model) for (_, model), label in MOVED.items()} | set(MOVED)
    before, after = migrated.before.rows, migrated.after.rows
    added_types = {
        id: (row["app_label"], row["model"])
        for id, row in after["django_content_type"].items()
        if id not in before["django_content_type"] and (row["app_label"], row["model"]) in moved
    }
    assert not added_types, f"new content types for moved models: {added_types}"

    moved_ids = moved_content_type_ids(migrated.before)
    added_permissions = {
        id: row["codename"]
        for id, row in after["auth_permission"].items()
        if id not in before["auth_permission"] and row["content_type_id"] in moved_ids
    }
    assert not added_permissions, f"new permissions for moved models: {added_permissions}"


def test_permissions_keep_their_ids_codenames_and_content_types(migrated):
    """Every old permission keeps its id, codename and content type (new ones may appear)."""
    old_rows = migrated.before.rows["auth_permission"]
    new_rows = migrated.after.rows["auth_permission"]
    changed = {
        id: (old, new_rows.get(id)) for id, old in old_rows.items() if new_rows.get(id) != old
    }
    assert not changed, "\n".join(
        f"permission {id}: {old} -> {new}" for id, (old, new) in changed.items()
    )


@pytest.mark.parametrize(
    "table", ["auth_group_permissions", "auth_user_user_permissions", "django_admin_log"]
)
def test_group_and_user_permissions_and_the_admin_log_are_unchanged(migrated, table):
    """Permission links and admin log entries (content_type_id, object_id) stay as they were."""
    assert migrated.after.rows[table] == migrated.before.rows[table]


def test_applications_approved_before_certificates_existed_get_their_records(
    migrated, scratch_database
):
    """Each approved application grants its registration period; each registered vehicle has
    one valid Certificate of Registration and one open ownership period, its applicant's."""
    conninfo, _ = scratch_database
    with psycopg.connect(conninfo) as connection:
        (approved,) = connection.execute(
            "SELECT count(*) FROM registry_registrationapplication WHERE status = 'approved'"
        ).fetchone()
        missing_period = connection.execute(
            "SELECT a.reference FROM registry_registrationapplication a"
            " LEFT JOIN registry_registrationperiod p ON p.application_id = a.id"
            " WHERE a.status = 'approved' AND p.id IS NULL"
        ).fetchall()
        holders = connection.execute(
            "SELECT c.vehicle_id, c.owner_id, o.owner_id FROM registry_certificate c"
            " JOIN registry_ownershipperiod o ON o.vehicle_id = c.vehicle_id"
            " AND o.ended_on IS NULL WHERE c.status = 'valid'"
        ).fetchall()
        (registered,) = connection.execute(
            "SELECT count(DISTINCT vehicle_id) FROM registry_registrationapplication"
            " WHERE status = 'approved'"
        ).fetchone()
    assert approved > 0  # the fixture has approved applications: this test is not vacuous
    assert missing_period == []
    assert len(holders) == registered
    assert all(cr_owner == period_owner for _, cr_owner, period_owner in holders)
