"""Pages and API calls at national scale: p50/p95 of each, through a real server.

    make bench                        # BENCH_SCALE=1.0: 1M vehicles and applications
    make bench BENCH_SCALE=0.05       # a twentieth of that
    make bench BENCH_SCALE=0          # skips this bench
    python bench/scale.py --scale 0.0005 --samples 3   # under scripts/with-services

Run under scripts/with-services (a fresh PostgreSQL in DATABASE_URL, Redis in REDIS_URL).

The data set. One *unit* is one owner with two vehicles, each with one application: one
application registered (every clearance approved, a plate issued), one sent for clearance
(its three requests open, their due dates spread over 40 days so some are overdue). Scale
1.0 is 500,000 units: 1M vehicles, 1M applications, 3M clearance requests and the history
rows those steps write (10M: ten per application; the issue's set had 8M). The first unit
is made through the app's own services, so its rows are whatever the app writes today; the
rest are copies of it made by the database itself with ``INSERT ... SELECT ... FROM
generate_series`` (see ``clone``).

Why generate_series and not COPY: the copies are derived from rows already in the database,
so PostgreSQL makes them where they are, one statement per table and chunk, with no rows
formatted in Python, sent over the socket and parsed again. Foreign-key triggers are off
for the load (``session_replication_role = replica``): every key is computed to point
at a copied or shared row. Columns come from each model's ``_meta``, so a new column is
copied without a change here; columns the database fills itself (generated columns) are
not written at all. Only values that must differ per row are computed (``VALUES``).

The cache. A finished data set is saved with ``pg_dump --format=directory`` under
``var/bench-cache/`` (``BENCH_CACHE_DIR``), keyed by GENERATOR_VERSION, the scale and the
migrations on disk; a later run restores it with parallel ``pg_restore`` instead of
generating it again. Before either, free disk is checked against an estimate.

Then one uvicorn process is started on 127.0.0.1 (bench/scale_settings.py: the project's
settings plus a header with each response's query count), each person signs in through the
real login form, and each page is fetched ``--samples`` times after a warm-up. Nothing here
asserts a timing.
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "talaan.settings")

# Raise when what is generated changes, so no run measures a stale cache.
GENERATOR_VERSION = 1
UNITS_AT_SCALE_1 = 500_000
# Database bytes per unit measured at BENCH_SCALE=0.05 (0.45 GB for 25,000 units), rounded up; the
# dump (compressed, without indexes) about a tenth: 33 MB. Doubled for what a load needs on
# top (WAL, sorts).
BYTES_PER_UNIT = 18_000
PASSWORD = "bench-password-not-secret"
GOAL_MS = 100.0

FIRST_NAMES = [
    "Juan", "Maria", "Jose", "Ana", "Pedro", "Rosa", "Antonio", "Carmen", "Ramon", "Luz",
    "Manuel", "Elena", "Ricardo", "Teresa", "Eduardo", "Cristina", "Roberto", "Josefina",
    "Fernando", "Lourdes", "Rodrigo", "Imelda", "Emilio", "Corazon", "Andres", "Gloria",
    "Miguel", "Perla", "Gabriel", "Remedios", "Rafael", "Leticia", "Ernesto", "Marites",
    "Danilo", "Rowena", "Rogelio", "Analyn", "Nestor", "Jocelyn",
]  # fmt: skip
LAST_NAMES = [
    "Santos", "Reyes", "Cruz", "Bautista", "Ocampo", "Garcia", "Mendoza", "Torres",
    "Tomas", "Andrada", "Castillo", "Flores", "Villanueva", "Ramos", "Castro", "Rivera",
    "Aquino", "Navarro", "Salazar", "Mercado", "Dela Cruz", "Aguilar", "Gonzales", "Lopez",
    "Hernandez", "Perez", "Pascual", "Domingo", "Soriano", "Valdez", "Manalo", "Dizon",
    "Lim", "Tan", "Sy", "Gatchalian", "Macaraeg", "Panganiban", "Sison", "Lacson",
    "Magsaysay", "Quezon", "Laurel", "Roxas", "Osmena", "Quirino", "Marcos", "Estrada",
    "Arroyo", "Abad",
]  # fmt: skip
MAKES_MODELS = [
    ("Toyota", "Vios"), ("Toyota", "Innova"), ("Toyota", "Fortuner"), ("Mitsubishi", "Montero"),
    ("Mitsubishi", "Mirage"), ("Honda", "City"), ("Honda", "Civic"), ("Nissan", "Navara"),
    ("Ford", "Ranger"), ("Hyundai", "Accent"), ("Suzuki", "Ertiga"), ("Isuzu", "D-Max"),
]  # fmt: skip


def sql_array(values: list[str]) -> str:
    return "ARRAY[" + ", ".join("'" + value.replace("'", "''") + "'" for value in values) + "]"


def pick(values: list[str], seed: str) -> str:
    """One of ``values`` chosen by an integer SQL expression (PostgreSQL arrays start at 1)."""
    return f"({sql_array(values)})[1 + (({seed}) % {len(values)})]"


# Per-row values of the columns that must differ between copies, or that a search needs
# spread out, keyed by (model label, field name). ``{id}`` is the new row's primary key,
# ``t`` the template row. Every other column is copied from the template as it is.
REFERENCE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
REFERENCE = (
    "'TLN-' || "
    + " || ".join(
        f"substr('{REFERENCE_ALPHABET}', 1 + (({{id}} / {30**i}) % 30)::int, 1)"
        for i in range(7, -1, -1)
    )
    + " "
)
PLATE = (
    "CASE WHEN t.plate_number IS NULL THEN NULL ELSE "
    "chr(65 + (({id} / 6760000) % 26)::int) || chr(65 + (({id} / 260000) % 26)::int) || "
    "chr(65 + (({id} / 10000) % 26)::int) || ' ' || lpad(({id} % 10000)::text, 4, '0') END"
)
VALUES: dict[tuple[str, str], str] = {
    ("auth.user", "username"): "'owner.' || lpad({id}::text, 7, '0')",
    ("auth.user", "email"): "'owner.' || lpad({id}::text, 7, '0') || '@example.ph'",
    ("auth.user", "first_name"): pick(FIRST_NAMES, "{id}"),
    ("auth.user", "last_name"): pick(LAST_NAMES, f"{{id}} / {len(FIRST_NAMES)}"),
    ("registry.vehicle", "vin"): "'JTDBT' || lpad(upper(to_hex({id})), 12, '0')",
    ("registry.vehicle", "engine_number"): "'ENG' || lpad({id}::text, 10, '0')",
    ("registry.vehicle", "chassis_number"): "'CHS' || lpad({id}::text, 12, '0')",
    ("registry.vehicle", "plate_number"): PLATE,
    ("registry.vehicle", "make"): pick([make for make, _ in MAKES_MODELS], "{id}"),
    ("registry.vehicle", "model"): pick([model for _, model in MAKES_MODELS], "{id}"),
    ("registry.registrationapplication", "reference"): REFERENCE,
    # Spread over a year, so "newest first" and deep pages sort real dates.
    ("registry.registrationapplication", "created_at"): (
        "t.created_at - (({id} % 525600) * interval '1 minute')"
    ),
    # Due dates 0-39 days earlier than the template's (a week ahead): some overdue, some not.
    ("clearance.clearancerequest", "due_at"): "t.due_at - (({id} % 40) * interval '1 day')",
}


# Ids kept as plain integers rather than foreign keys (payments keeps its "payable" that way):
# remapped to the copied rows as a foreign key would be, or every copy would share the
# template's (and payments allows one holding payment per assessment).
PLAIN_IDS: dict[tuple[str, str], str] = {
    ("payments.payment", "application_id"): "registry.RegistrationApplication",
    ("payments.payment", "assessment_id"): "payments.Assessment",
    ("payments.officialreceipt", "assessment_id"): "payments.Assessment",
}


# Rows of the unit that are not copied: numbered in one series shared by every copy (official
# receipts, per office, and what hangs off them) or unique per provider's event id (the raw
# callbacks). No page measured here lists them; a copy's application shows its payment
# without a receipt.
NOT_COPIED = {
    "payments.paymentevent",
    "payments.officialreceipt",
    "payments.receiptitem",
    "payments.receipthistory",
}


@dataclass
class Table:
    """One model's template rows and where their copies' primary keys start."""

    model: Any
    template_pks: list[int]
    first_pk: int = 0

    @property
    def per_unit(self) -> int:
        return len(self.template_pks)

    @property
    def name(self) -> str:
        return self.model._meta.db_table

    def new_pk(self, pk_sql: str = "t.__k") -> str:
        return f"({self.first_pk} + u * {self.per_unit} + {pk_sql})"


# --- the data set -------------------------------------------------------------------------


def cache_key(scale: float) -> str:
    """Generator version, scale and every migration on disk: a schema change misses the cache."""
    migrations = sorted(str(path.relative_to(ROOT)) for path in ROOT.glob("*/migrations/0*.py"))
    digest = hashlib.sha256("\n".join(migrations).encode()).hexdigest()[:12]
    return f"v{GENERATOR_VERSION}-scale{scale:g}-{digest}"


def check_disk(units: int, cache_dir: Path | None) -> str | None:
    """Why there is not enough free disk for this scale, or None when there is."""
    needed = units * BYTES_PER_UNIT * 2
    places = {Path(os.environ.get("TALAAN_SERVICES_DIR") or tempfile.gettempdir()): needed}
    if cache_dir is not None:
        cache_dir.mkdir(parents=True, exist_ok=True)
        places[cache_dir] = places.get(cache_dir, 0) + units * BYTES_PER_UNIT // 10
    for place, bytes_needed in places.items():
        free = shutil.disk_usage(place).free
        if free < bytes_needed:
            return (
                f"{place} has {free / 1e9:.1f} GB free; this scale needs about "
                f"{bytes_needed / 1e9:.1f} GB there"
            )
    return None


def make_template() -> int:
    """One unit made through the app's services; returns its owner's primary key."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import PBKDF2PasswordHasher

    from tests.conftest import (
        build_world,
        filed_application,
        registered_application,
        sent_for_clearance,
    )
    from tests.factories import UserFactory

    world = build_world()
    owner = UserFactory(username="bench.template", first_name="Juan", last_name="Santos")
    # tests.conftest makes MD5 the hasher; the server keeps Django's default (PBKDF2), which
    # the login form checks, so the hash is made with it. Copies share it.
    hasher = PBKDF2PasswordHasher()
    get_user_model().objects.update(password=hasher.encode(PASSWORD, hasher.salt()))
    registered_application(world, filed_application(world, owner=owner), plate="NBC 1234")
    sent_for_clearance(world, filed_application(world, owner=owner))
    return owner.pk


def collect(owner_pk: int) -> dict[Any, Table]:
    """Every row that belongs to the template owner, followed through foreign keys.

    A row belongs to the unit when one of its foreign keys points at a row that does; rows
    of shared things (organisations, offices, officers) do not point at the owner's rows
    and stay shared by every copy.
    """
    from django.apps import apps
    from django.contrib.auth import get_user_model
    from django.db.models import Q

    user_model = get_user_model()
    found: dict[Any, set[int]] = {user_model: {owner_pk}}
    changed = True
    while changed:
        changed = False
        for model in apps.get_models(include_auto_created=True):
            if model._meta.proxy or not model._meta.managed:
                continue
            if model._meta.label_lower in NOT_COPIED:
                continue
            condition = Q()
            for field_ in model._meta.concrete_fields:
                target = field_.related_model if field_.is_relation else None
                if target is not None and target._meta.concrete_model in found:
                    condition |= Q(**{f"{field_.attname}__in": found[target._meta.concrete_model]})
            if not condition:
                continue
            pks = set(model._base_manager.filter(condition).values_list("pk", flat=True))
            if not pks <= found.get(model, set()):
                found.setdefault(model, set()).update(pks)
                changed = True
    return {model: Table(model, sorted(pks)) for model, pks in found.items()}


def column_sql(table: Table, field_: Any, tables: dict[Any, Table], connection: Any) -> str:
    """The SQL of one column of a copied row (see VALUES)."""
    from django.apps import apps

    column = f"t.{connection.ops.quote_name(field_.column)}"
    new_pk = table.new_pk()
    if field_.primary_key and not field_.is_relation:
        if field_.get_internal_type() not in {"AutoField", "BigAutoField", "SmallAutoField"}:
            raise SystemExit(f"{table.model._meta.label}: cannot copy a {field_} primary key")
        return new_pk
    override = VALUES.get((table.model._meta.label_lower, field_.name))
    if override is not None:
        return override.format(id=new_pk)
    plain = PLAIN_IDS.get((table.model._meta.label_lower, field_.name))
    related = apps.get_model(plain) if plain else None
    if field_.is_relation:
        related = field_.related_model._meta.concrete_model
    if related is not None and related in tables:
        target = tables[related]
        cases = " ".join(
            f"WHEN {pk} THEN {target.new_pk(str(index))}"
            for index, pk in enumerate(target.template_pks)
        )
        return f"CASE {column} {cases} ELSE {column} END"
    if field_.unique and not field_.is_relation:
        kind = field_.get_internal_type()
        if kind == "UUIDField":
            return f"CASE WHEN {column} IS NULL THEN NULL ELSE gen_random_uuid() END"
        if kind in {"CharField", "SlugField"} and (field_.max_length or 0) >= 12:
            suffix = f"'-' || lpad(to_hex({new_pk}), 8, '0')"
            keep = field_.max_length - 9
            return (
                f"CASE WHEN {column} IS NULL THEN NULL ELSE left({column}, {keep}) || {suffix} END"
            )
        if kind in {"IntegerField", "BigIntegerField", "PositiveIntegerField"}:
            return f"CASE WHEN {column} IS NULL THEN NULL ELSE {column} + {new_pk} END"
        raise SystemExit(
            f"{table.model._meta.label}.{field_.name} is unique and bench/scale.py does not "
            "know how to vary it: add it to VALUES"
        )
    return column


def clone(tables: dict[Any, Table], units: int, chunk: int, say: Any) -> None:
    """Copy every template row ``units`` times, in chunks of units, one statement each."""
    from django.db import connection, transaction

    quote_name = connection.ops.quote_name
    with connection.cursor() as cursor:
        for table in tables.values():
            pk_column = quote_name(table.model._meta.pk.column)
            cursor.execute(f"SELECT coalesce(max({pk_column}), 0) FROM {quote_name(table.name)}")
            table.first_pk = cursor.fetchone()[0] + 1
    for table in tables.values():
        pk_column = quote_name(table.model._meta.pk.column)
        # Columns the database computes itself (GeneratedField) are never written.
        fields = [
            f for f in table.model._meta.concrete_fields if not getattr(f, "generated", False)
        ]
        columns = ", ".join(quote_name(f.column) for f in fields)
        values = ", ".join(column_sql(table, f, tables, connection) for f in fields)
        templates = ", ".join(str(pk) for pk in table.template_pks)
        began = time.perf_counter()
        for start in range(0, units, chunk):
            stop = min(units, start + chunk)
            statement = (
                f"INSERT INTO {quote_name(table.name)} ({columns}) SELECT {values} "
                f"FROM generate_series({start}, {stop - 1}) AS u CROSS JOIN ("
                f"SELECT *, row_number() OVER (ORDER BY {pk_column}) - 1 AS __k "
                f"FROM {quote_name(table.name)} WHERE {pk_column} IN ({templates})) AS t"
            )
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SET LOCAL session_replication_role = replica")
                cursor.execute(statement)
        say(
            f"  {table.name}: {units * table.per_unit:,} rows copied "
            f"({time.perf_counter() - began:.1f} s)"
        )
    with connection.cursor() as cursor:
        for table in tables.values():
            pk = table.model._meta.pk
            if pk.is_relation:
                continue
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence(%s, %s), "
                f"(SELECT max({quote_name(pk.column)}) FROM {quote_name(table.name)}))",
                [table.name, pk.column],
            )


def generate(units: int, say: Any) -> None:
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    began = time.perf_counter()
    owner_pk = make_template()
    tables = collect(owner_pk)
    say(
        f"template unit: {sum(t.per_unit for t in tables.values())} rows in {len(tables)} "
        f"tables, made through the services ({time.perf_counter() - began:.1f} s)"
    )
    clone(tables, units - 1, chunk=25_000, say=say)
    connection.close()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE)")  # statistics and visibility maps, as in production


def pg_tool(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    beside = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))
    if not beside:
        raise SystemExit(f"{name} not found (Debian package postgresql-client)")
    return str(beside[-1])


def load_data_set(scale: float, cache_dir: Path | None, say: Any) -> str:
    """Restore the cached data set for this scale, or generate it (and cache it)."""
    units = max(1, round(UNITS_AT_SCALE_1 * scale))
    url = os.environ["DATABASE_URL"]
    key = cache_key(scale)
    cached = cache_dir / key if cache_dir is not None else None
    began = time.perf_counter()
    if cached is not None and (cached / "toc.dat").exists():
        subprocess.run(
            [pg_tool("pg_restore"), "--no-owner", "--jobs", "2", "--dbname", url, str(cached)],
            check=True,
        )
        how = f"restored from {cached}"
        # pg_restore brings no planner statistics: without them the first searches plan
        # sequential scans (1 s instead of 60 ms) until autovacuum gets round to the tables.
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("VACUUM (ANALYZE)")
    else:
        generate(units, say)
        how = "generated"
        if cached is not None:
            partial = cached.with_name(cached.name + ".partial")
            # Older versions of this scale's data set (and an unfinished dump) go first.
            for stale in cache_dir.glob(f"v*-scale{scale:g}-*"):
                shutil.rmtree(stale, ignore_errors=True)
            subprocess.run(
                [
                    pg_tool("pg_dump"),
                    "--format=directory",
                    "--jobs",
                    "2",
                    "--file",
                    str(partial),
                    url,
                ],
                check=True,
            )
            partial.rename(cached)
            how += f", cached in {cached}"
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_database_size(current_database())")
        size = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM pg_stats WHERE schemaname = 'public'")
        analysed = cursor.fetchone()[0]
    say(
        f"data set at scale {scale:g} ({units:,} units): {how} in "
        f"{time.perf_counter() - began:.1f} s; database {size / 1e9:.2f} GB; planner "
        f"statistics on {analysed:,} columns"
    )
    return how


def counts() -> str:
    from django.contrib.auth import get_user_model

    from clearance.models import ClearanceRequest, ClearanceStatusChange
    from registry.models import ApplicationStatusChange, RegistrationApplication, Vehicle

    history = ApplicationStatusChange.objects.count() + ClearanceStatusChange.objects.count()
    return (
        f"{Vehicle.objects.count():,} vehicles, {RegistrationApplication.objects.count():,} "
        f"applications, {ClearanceRequest.objects.count():,} clearance requests, "
        f"{history:,} history rows, {get_user_model().objects.count():,} users"
    )


# --- the measurements ----------------------------------------------------------------------


class Client:
    """One person's keep-alive connection with their cookies, signed in through the form."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)

    def request(
        self, method: str, path: str, body: str | None = None, headers: dict[str, str] | None = None
    ) -> tuple[http.client.HTTPResponse, bytes]:
        sent = {"Host": f"127.0.0.1:{self.port}", **(headers or {})}
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        try:
            self.connection.request(method, path, body=body, headers=sent)
            response = self.connection.getresponse()
        except (http.client.RemoteDisconnected, ConnectionError):
            # uvicorn closes a keep-alive connection idle for 5 s: open a new one, once.
            self.connection.close()
            self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
            self.connection.request(method, path, body=body, headers=sent)
            response = self.connection.getresponse()
        content = response.read()
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        return response, content

    def sign_in(self, username: str) -> None:
        response, page = self.request("GET", "/login/")
        match = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        if response.status != 200 or match is None:
            raise SystemExit(f"the login page answered {response.status} without a form")
        form = urlencode(
            {
                "csrfmiddlewaretoken": match.group(1).decode(),
                "username": username,
                "password": PASSWORD,
            }
        )
        response, _ = self.request(
            "POST",
            "/login/",
            form,
            {"Content-Type": "application/x-www-form-urlencoded", "Referer": "http://127.0.0.1/"},
        )
        if response.status != 302 or "sessionid" not in self.cookies:
            raise SystemExit(f"signing in as {username} failed: {response.status}")


@dataclass
class Case:
    label: str
    who: str  # a username, "key:<name>" for an API key, or "" for nobody signed in
    path: str
    latencies: list[float] = field(default_factory=list)
    queries: str = "?"
    status: int = 0


def cases(target: dict[str, Any], officers: list[str], lto: str, last_page: int) -> list[Case]:
    """What the issue's table measures, with the query strings a person would type."""

    def search(label: str, text: str) -> Case:
        return Case(f"LTO search by {label}", lto, "/lto/applications/?" + urlencode({"q": text}))

    plate = target["plate"]
    listing = [
        search("VIN", target["vin"]),
        search("plate", plate),
        search("plate without space", plate.replace(" ", "")),
        search("plate in lower case", plate.lower()),
        search("reference", target["reference"]),
        search("reference in lower case", target["reference"].lower()),
        search("username", target["username"]),
        search("last name", target["last_name"]),
        search("first name", target["first_name"]),
        search("full name", f"{target['first_name']} {target['last_name']}"),
        search("e-mail", target["email"]),
        search("make", target["make"]),
        search("model", target["model"]),
        search("make and model", f"{target['make']} {target['model']}"),
        Case("LTO list, overdue filter", lto, "/lto/applications/?overdue=on"),
        Case("LTO list, page 1", lto, "/lto/applications/"),
        Case(
            f"LTO list, page {min(500, last_page)}",
            lto,
            f"/lto/applications/?page={min(500, last_page)}",
        ),
    ]
    for officer in officers:
        listing.append(Case(f"queue first page, {officer}", officer, "/queue/"))
        listing.append(Case(f"queue overdue, {officer}", officer, "/queue/?show=overdue"))
        listing.append(Case(f"queue decided, {officer}", officer, "/queue/?show=decided"))
    owner = target["username"]
    listing += [
        Case("owner dashboard", owner, "/"),
        Case(
            "application detail, owner",
            target["recorded_owner"],
            f"/applications/{target['recorded_application']}/",
        ),
        Case("application detail, LTO", lto, f"/applications/{target['recorded_application']}/"),
        Case("public verify", "", f"/verify/{quote(target['reference'])}"),
        Case("API applications list, owner", owner, "/api/v1/applications/"),
        Case("API vehicles list, owner", owner, "/api/v1/vehicles/"),
        Case("API notifications list, owner", owner, "/api/v1/notifications/"),
        Case("API applications list, LTO", lto, "/api/v1/applications/"),
        Case("API clearances list, HPG key", "key:hpg", "/api/v1/clearances/"),
        Case(
            "API status lookup, HPG key",
            "key:hpg",
            f"/api/v1/status/?reference={target['reference']}",
        ),
    ]
    return listing


def pick_target() -> dict[str, Any]:
    """The registered application of the unit in the middle: a row like any other."""
    from registry.models import RegistrationApplication

    applications = RegistrationApplication.objects.filter(vehicle__plate_number__isnull=False)
    ids = applications.order_by("pk").values_list("pk", flat=True)
    middle = ids.filter(pk__gte=(ids.first() + ids.last()) // 2).first()
    application = RegistrationApplication.objects.select_related("vehicle", "applicant").get(
        pk=middle
    )
    vehicle, owner = application.vehicle, application.applicant
    # The template unit's own application (the lowest ids): made through the services, its
    # receipts are on the ledger, so its page checks each once and then reads the cache, as
    # a real page does. A copy's receipts name ledger changes that do not exist: they fail
    # their check on every view (3 queries each), which no real page does.
    recorded = applications.order_by("pk").first()
    return {
        "application": application.pk,
        "recorded_application": recorded.pk,
        "recorded_owner": recorded.applicant.username,
        "reference": application.reference,
        "vin": vehicle.vin,
        "plate": vehicle.plate_number,
        "make": vehicle.make,
        "model": vehicle.model,
        "username": owner.username,
        "first_name": owner.first_name,
        "last_name": owner.last_name,
        "email": owner.email,
    }


def api_key() -> str:
    from organisations.models import Membership, Organisation
    from organisations.services import api_key_create

    hpg = Organisation.objects.get(code="hpg")
    admin = Membership.objects.filter(organisation=hpg, role=Membership.Role.ADMIN).first()
    _, key = api_key_create(organisation_id=hpg.pk, admin=admin.user, name="bench", scopes=["read"])
    return key


def percentile(samples: list[float], cut: int) -> float:
    if len(samples) == 1:
        return samples[0]
    return statistics.quantiles(samples, n=100, method="inclusive")[cut - 1]


def measure(port: int, listing: list[Case], key: str, samples: int, say: Any) -> None:
    clients: dict[str, Client] = {}
    for case in listing:
        if case.who not in clients:
            client = Client(port)
            if case.who and not case.who.startswith("key:"):
                client.sign_in(case.who)
            clients[case.who] = client
        client = clients[case.who]
        headers = {"Authorization": f"Bearer {key}"} if case.who.startswith("key:") else {}
        response, _ = client.request("GET", case.path, headers=headers)  # warm-up
        for _ in range(samples):
            began = time.perf_counter()
            response, _ = client.request("GET", case.path, headers=headers)
            case.latencies.append(time.perf_counter() - began)
        case.status = response.status
        case.queries = response.getheader("X-Bench-Queries", "?")
        ms = [value * 1000 for value in case.latencies]
        say(
            f"{case.label:<44} {case.status}  p50 {percentile(ms, 50):8.1f} ms  "
            f"p95 {percentile(ms, 95):8.1f} ms  {case.queries:>3} queries  (limit p95 < "
            f"{GOAL_MS:.0f} ms)"
        )


def start_server(log: Path) -> tuple[subprocess.Popen[bytes], int]:
    from bench.status_lookup import free_port

    port = free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.scale_settings",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DATABASE_POOL_SIZE": "10",  # as docker-compose.yml runs it (talaan/settings.py says why)
        "API_THROTTLE_KEY": "10000000/min",
        "API_THROTTLE_USER": "10000000/min",
    }
    command = [sys.executable, "-m", "uvicorn", "talaan.asgi:application", "--host", "127.0.0.1"]
    command += ["--port", str(port), "--log-level", "warning", "--no-access-log"]
    server = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            probe = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            probe.request("GET", "/healthz")
            if probe.getresponse().status == 200:
                return server, port
        except OSError:
            pass
        if server.poll() is not None or time.monotonic() > deadline:
            server.kill()
            raise SystemExit(f"uvicorn did not start; its log:\n{log.read_text()[-3000:]}")
        time.sleep(0.3)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--scale", type=float, default=float(os.environ.get("BENCH_SCALE") or 1.0),
        help="1.0 = 1M vehicles and applications (default: BENCH_SCALE, else 1.0); 0 skips",
    )  # fmt: skip
    parser.add_argument("--samples", type=int, default=20, help="timed requests per page")
    parser.add_argument(
        "--cache-dir",
        type=Path,
        default=Path(os.environ.get("BENCH_CACHE_DIR") or ROOT / "var" / "bench-cache"),
    )
    parser.add_argument("--no-cache", action="store_true", help="neither read nor write a cache")
    parser.add_argument(
        "--load-only",
        action="store_true",
        help="generate or restore the data set (filling the cache), print its rows, stop",
    )
    args = parser.parse_args(argv)
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    from bench.summary import emit, missing_line, summary_line

    if args.scale <= 0:
        print("scale: skipped (BENCH_SCALE=0)")
        emit(missing_line("scale pages", "skipped: BENCH_SCALE=0", failed=False))
        return 0
    if args.samples < 1:
        parser.error("--samples must be positive")
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        raise SystemExit("Run this through `make bench` (needs PostgreSQL and Redis).")
    units = max(1, round(UNITS_AT_SCALE_1 * args.scale))
    cache_dir = None if args.no_cache else args.cache_dir
    if reason := check_disk(units, cache_dir):
        print(f"scale: skipped, not enough free disk: {reason}")
        emit(missing_line("scale pages", f"not enough free disk: {reason}", failed=False))
        return 0

    import django

    django.setup()
    say = print
    load_data_set(args.scale, cache_dir, say)
    say(f"rows: {counts()}")
    if args.load_only:
        return 0
    target = pick_target()
    key = api_key()
    from clearance.models import ClearanceRequest
    from organisations.models import Membership
    from registry.models import RegistrationApplication

    # One officer of each organisation that has requests: each sees their organisation's queue.
    officers: dict[str, str] = {}
    memberships = Membership.objects.filter(role=Membership.Role.OFFICER, is_active=True)
    for code, username in memberships.order_by("organisation__code", "user__username").values_list(
        "organisation__code", "user__username"
    ):
        if ClearanceRequest.objects.filter(organisation__code=code).exists():
            officers.setdefault(code, username)
    last_page = max(1, (RegistrationApplication.objects.count() + 24) // 25)
    from django.db import connection

    connection.close()  # the server's connections are the ones measured

    log = Path(tempfile.mkdtemp(prefix="talaan-bench-")) / "uvicorn.log"
    server, port = start_server(log)
    listing = cases(target, list(officers.values()), "lto.admin", last_page)
    try:
        say(
            f"Talaan pages at scale {args.scale:g}: one uvicorn process, one client at a time, "
            f"{args.samples} timed requests per page after one warm-up"
        )
        say(f"load average at start: {os.getloadavg()[0]:.2f}")
        measure(port, listing, key, args.samples, say)
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
    failed = False
    for case in listing:
        figure = f"scale {args.scale:g} {case.label} p95"
        if case.status >= 400:
            failed = True
            emit(missing_line(figure, f"answered {case.status}"))
            continue
        ms = [value * 1000 for value in case.latencies]
        emit(summary_line(figure, percentile(ms, 95), "ms", goal=f"< {GOAL_MS:.0f} ms"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
