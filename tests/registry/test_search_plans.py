"""The searches and lists use their indexes, as PostgreSQL plans them with real statistics.

Thousands of rows shaped like the national registry (most applications decided, a few
clearances open, fewer overdue, names and models repeating) are generated in the database,
ANALYZEd, and each query's plan is read: a query that loses its index (a changed expression,
a dropped migration) plans a sequential scan here and fails. Nothing is forced: the planner
chooses with the statistics it has.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone

from chaincode.rules import CLEARANCE_OPEN
from clearance.models import ClearanceRequest
from kernel.paging import LeanPaginator
from registry import participants
from registry.models import RegistrationApplication
from registry.search import search_applications
from tests.factories import OrganisationFactory

ROWS = 20_000
BIG_TABLES = {"auth_user", "registry_vehicle", "registry_registrationapplication"}

FIRST_NAMES = ["Juan", "Maria", "Jose", "Ana", "Pedro", "Rosa", "Carlo", "Liza", "Mark", "Joy"]
MAKES = ["Toyota", "Mitsubishi", "Honda", "Nissan", "Ford", "Suzuki", "Hyundai", "Isuzu"]


def _generate(organisation_ids: list[int]) -> None:
    """ROWS owners, each with a vehicle and an application, and three clearance requests an
    application, spread over the organisations."""
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO auth_user (password, is_superuser, username, first_name, last_name,
                                   email, is_staff, is_active, date_joined)
            SELECT '!', false, 'bulk' || i, (%(first)s::text[])[1 + i %% 10],
                   'Surname' || (i %% 2000), 'bulk' || i || '@example.ph', false, true, %(now)s
            FROM generate_series(1, %(rows)s) AS i;

            INSERT INTO registry_vehicle (created_at, updated_at, owner_id, vin, engine_number,
                chassis_number, make, model, year, body_type, colour, fuel, classification,
                plate_number, is_active)
            SELECT %(now)s, %(now)s, u.id, 'BULK' || lpad(n::text, 13, '0'), 'E' || n,
                   'C' || n, (%(makes)s::text[])[1 + n %% 8], 'Model' || (n %% 400),
                   2020, 'sedan', 'White', 'gasoline', 'private', 'BLK ' || n, true
            -- Numbered by the owner's number, not by id: ids go on from wherever an earlier
            -- test (or a flush, which keeps the sequences) left them.
            FROM auth_user u, LATERAL (SELECT substring(u.username from 5)::int AS n) AS k
            WHERE u.username LIKE 'bulk%%';

            INSERT INTO registry_registrationapplication (created_at, updated_at, reference,
                applicant_id, vehicle_id, type, status, period_start, period_end, filed_late,
                remarks)
            SELECT %(now)s - make_interval(mins => v.id::int), %(now)s,
                   'TLN-B' || lpad(substring(v.vin from 5)::int::text, 7, '0'), v.owner_id,
                   v.id, 'new',
                   CASE WHEN v.id %% 10 = 0 THEN 'awaiting_clearances' ELSE 'approved' END,
                   DATE '2026-01-01', DATE '2028-12-31', false, ''
            FROM registry_vehicle v WHERE v.vin LIKE 'BULK%%';

            INSERT INTO clearance_clearancerequest (created_at, updated_at, public_id,
                application_id, kind, organisation_id, status, remarks, due_at)
            SELECT %(now)s, %(now)s, gen_random_uuid(), a.id, k.kind,
                   (%(orgs)s::bigint[])[1 + floor(random() * %(org_count)s)::int],
                   CASE WHEN a.status = 'approved' THEN 'approved' ELSE 'pending' END, '',
                   %(now)s + make_interval(hours => (a.id %% 200)::int - 10)
            FROM registry_registrationapplication a
            CROSS JOIN (VALUES (0, 'HPG'), (1, 'INSURANCE'), (2, 'EMISSION')) AS k (n, kind)
            WHERE a.reference LIKE 'TLN-B%%';

            -- What autovacuum does to a table at rest: a GIN index takes new rows into a
            -- pending list first, which every search reads whole until it is merged.
            SELECT gin_clean_pending_list(i.indexrelid)
            FROM pg_index i
            JOIN pg_class c ON c.oid = i.indexrelid
            JOIN pg_am am ON am.oid = c.relam
            WHERE am.amname = 'gin'
              AND i.indrelid IN ('auth_user'::regclass, 'registry_vehicle'::regclass);
            ANALYZE auth_user, registry_vehicle, registry_registrationapplication,
                    clearance_clearancerequest;
            """,
            {
                "first": FIRST_NAMES,
                "makes": MAKES,
                "rows": ROWS,
                "now": now,
                "orgs": organisation_ids,
                "org_count": len(organisation_ids),
            },
        )


@pytest.fixture
def national(world):
    organisations = [world.hpg, world.insurer, world.emission]
    organisations += [OrganisationFactory(kind="INSURANCE") for _ in range(27)]
    _generate([organisation.pk for organisation in organisations])
    return organisations


def _nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from _nodes(child)


def plan_of(queryset: QuerySet) -> list[dict[str, Any]]:
    """Every node of the query's plan, as PostgreSQL would run it."""
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        (raw,) = cursor.fetchone()
    document = raw if isinstance(raw, list) else json.loads(raw)
    return list(_nodes(document[0]["Plan"]))


def _text_plan(queryset: QuerySet) -> str:
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


def assert_indexed(queryset: QuerySet, *index_names: str) -> None:
    nodes = plan_of(queryset)
    scanned = {node.get("Relation Name") for node in nodes if node["Node Type"] == "Seq Scan"}
    used = {node.get("Index Name") for node in nodes}
    assert not scanned & BIG_TABLES, f"sequential scan of {scanned & BIG_TABLES}"
    assert "clearance_clearancerequest" not in scanned
    for name in index_names:  # a prefix: Django names unique indexes with a hash
        assert any(index.startswith(name) for index in used if index), (
            f"{name} not in the plan; it used {used - {None}}"
        )


def lto_list() -> QuerySet[RegistrationApplication]:
    return RegistrationApplication.objects.order_by("-created_at", "-id")


SEARCHES = {
    "reference, lower case": ("tln-b0000123", "registry_registrationapplication_reference"),
    "VIN, lower case": ("bulk0000000000123", "vehicle_vin_idx"),
    "plate without its space": ("blk123", "registry_vehicle_plate_number"),
    "username": ("BULK123", "user_username_upper_idx"),
    "e-mail": ("Bulk123@Example.PH", "user_email_upper_idx"),
    "last name": ("surname1234", "user_name_trgm_idx"),
    "full name": ("pedro surname1234", "user_name_trgm_idx"),
    "model": ("model123", "vehicle_make_model_trgm_idx"),
}


def test_searches_queues_and_pages_use_their_indexes(national):
    """One data set for every plan: generating it is most of the test's time."""
    problems = {}

    def check(label: str, queryset: QuerySet, *indexes: str) -> None:
        if not queryset.exists():
            problems[label] = "found nothing: the data set does not exercise it"
            return
        try:
            assert_indexed(queryset, *indexes)
        except AssertionError as exc:
            problems[label] = str(exc).splitlines()[0]
            problems[label] += "\n" + _text_plan(queryset)

    for label, (typed, index) in SEARCHES.items():
        check(f"search by {label}", search_applications(lto_list(), typed)[:25], index)

    busy = ClearanceRequest.objects.filter(status__in=CLEARANCE_OPEN).values_list(
        "organisation_id", flat=True
    )[0]
    queue = ClearanceRequest.objects.filter(
        organisation_id__in=[busy], status__in=CLEARANCE_OPEN
    ).order_by("due_at", "pk")
    check("an officer's queue", queue[:25], "clearance_open_queue_idx")

    overdue = (
        lto_list()
        .annotate(has_overdue=participants.overdue(timezone.now()))
        .filter(has_overdue=True)
    )
    check("the overdue filter", overdue[:25], "clearance_open_due_idx")
    check(
        "a status filter",
        lto_list().filter(status="awaiting_clearances")[:25],
        "application_status_idx",
    )
    deep_ids = lto_list().values_list("pk", flat=True)[(500 - 1) * 25 : 500 * 25 + 1]
    check("page 500's ids", deep_ids, "application_newest_idx")

    paginator = LeanPaginator(lto_list(), 25, cap=10_000)
    page = paginator.page(500)
    assert len(page) == 25 and page.has_next()
    assert paginator.count == 10_000 and paginator.count_capped
    assert paginator.count_label == "10,000+" and paginator.num_pages_label == "400+"
    assert not problems, "\n\n".join(f"{label}: {problem}" for label, problem in problems.items())
