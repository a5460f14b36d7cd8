"""Reads cost the same number of queries however many rows they return."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.api.conftest import client_for
from tests.conftest import filed_application, sent_for_clearance


def _queries(client, path: str, **params) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(path, params).status_code == 200
    return len(queries)


def test_listing_clearances_and_applications_does_not_grow_with_the_rows(office):
    client = client_for(office, "lto_admin")
    before = {
        path: _queries(client, path) for path in ("/api/v1/clearances/", "/api/v1/applications/")
    }

    for _ in range(3):
        sent_for_clearance(office.world, filed_application(office.world))

    after = {path: _queries(client, path) for path in before}
    assert after == before


def test_the_status_lookup_by_a_new_key_costs_eight_queries(office, django_assert_num_queries):
    client = client_for(office, "hpg_read_key")

    # The key and its last use (2; a cached key costs neither, test_status_lookup_version),
    # the caller's memberships (1), the application with its version: whether the vehicle
    # is on hold and its clearances' versions, as subqueries (1, issue 17), the caller's
    # clearances through their funnel, with their latest receipts (4).
    with django_assert_num_queries(8):
        response = client.get("/api/v1/status/", {"reference": office.application.reference})

    assert response.status_code == 200
