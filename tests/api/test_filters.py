"""The clearance and application lists filter with django-filter: documented, and strict."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator

from clearance import services as clearance_services
from clearance.models import ClearanceRequest
from tests.api.conftest import client_for
from tests.api.test_problems import assert_problem


def _ids(response) -> set[int]:
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


def test_the_clearance_list_filters_by_status_kind_and_application(office):
    client = client_for(office, "lto_admin")
    claimed = office.requests["HPG"]
    clearance_services.clearance_claim(request_id=claimed.pk, officer=office.world.hpg_officer)

    assert _ids(client.get("/api/v1/clearances/", {"status": "in_review"})) == {claimed.pk}
    assert _ids(client.get("/api/v1/clearances/", {"kind": "EMISSION"})) == {
        office.requests["EMISSION"].pk,
        office.other_requests["EMISSION"].pk,
    }
    by_reference = {"application": office.other_application.reference.lower()}
    assert _ids(client.get("/api/v1/clearances/", by_reference)) == {
        r.pk for r in office.other_requests.values()
    }


def test_the_clearance_list_filters_by_due_time(office):
    client = client_for(office, "lto_admin")
    late = office.requests["INSURANCE"]
    ClearanceRequest.objects.filter(pk=late.pk).update(due_at=timezone.now() - dt.timedelta(days=1))

    overdue = client.get("/api/v1/clearances/", {"due_before": timezone.now().isoformat()})

    assert _ids(overdue) == {late.pk}
    later = client.get("/api/v1/clearances/", {"due_after": timezone.now().isoformat()})
    assert late.pk not in _ids(later)
    assert len(_ids(later)) == 5


def test_filters_narrow_only_what_the_caller_may_see(office):
    response = client_for(office, "hpg_read_key").get("/api/v1/clearances/", {"kind": "INSURANCE"})

    assert _ids(response) == set()


@pytest.mark.parametrize(
    ("path", "parameter", "value"),
    [
        ("/api/v1/clearances/", "kind", "MAYOR"),
        ("/api/v1/clearances/", "due_before", "next tuesday"),
        # ISO allows offsets PostgreSQL refuses; the filter compares in UTC.
        ("/api/v1/clearances/", "due_after", "9999-12-31T23:59:59-23:42"),
        ("/api/v1/applications/", "status", "lost"),
        ("/api/v1/applications/", "type", "lease"),
        ("/api/v1/applications/", "created_after", "2026-13-45"),
        # Sent empty: not a status or a time, whatever django-filter would make of it.
        ("/api/v1/clearances/", "status", ""),
        ("/api/v1/clearances/", "due_before", ""),
        ("/api/v1/applications/", "type", ""),
        # Longer than any VIN or reference, as the schema says.
        ("/api/v1/applications/", "vin", "V" * 18),
        ("/api/v1/clearances/", "application", "TLN-" + "X" * 13),
    ],
)
def test_an_invalid_filter_value_is_a_400_naming_the_parameter(office, path, parameter, value):
    response = client_for(office, "lto_admin").get(path, {parameter: value})

    body = assert_problem(response, 400, "invalid")
    assert set(body["errors"]) == {parameter}


def test_the_application_list_filters_by_status_type_and_vin(office):
    client = client_for(office, "lto_admin")
    vin = office.other_application.vehicle.vin

    assert _ids(client.get("/api/v1/applications/", {"vin": vin.lower()})) == {
        office.other_application.pk
    }
    both = {office.application.pk, office.other_application.pk}
    assert _ids(client.get("/api/v1/applications/", {"status": "awaiting_clearances"})) == both
    assert _ids(client.get("/api/v1/applications/", {"status": "draft"})) == set()
    assert _ids(client.get("/api/v1/applications/", {"type": "new"})) == both
    assert _ids(client.get("/api/v1/applications/", {"type": "renewal"})) == set()


def test_the_application_list_filters_by_creation_time(office):
    client = client_for(office, "owner")
    created = office.application.created_at

    after = client.get("/api/v1/applications/", {"created_after": created.isoformat()})
    before = client.get("/api/v1/applications/", {"created_before": created.isoformat()})

    assert _ids(after) == {office.application.pk}
    assert _ids(before) == set()


@pytest.mark.parametrize(
    ("path", "parameters"),
    [
        ("/api/v1/clearances/", {"status", "kind", "application", "due_before", "due_after"}),
        ("/api/v1/applications/", {"status", "type", "vin", "created_after", "created_before"}),
    ],
)
def test_the_filters_are_documented_query_parameters(db, path, parameters):
    schema = SchemaGenerator().get_schema(request=None, public=True)

    documented = {
        p["name"]: p for p in schema["paths"][path]["get"]["parameters"] if p["in"] == "query"
    }

    assert parameters <= set(documented)
    assert documented["status"]["schema"]["enum"]
    assert all(documented[name]["description"] for name in parameters)
    text = {"application": 16, "vin": 17}
    for name in parameters & set(text):
        assert documented[name]["schema"]["maxLength"] == text[name]


def test_free_text_sent_empty_filters_nothing(office):
    everything = client_for(office, "lto_admin").get("/api/v1/applications/")

    response = client_for(office, "lto_admin").get("/api/v1/applications/", {"vin": ""})

    assert response.status_code == 200
    assert response.json()["results"] == everything.json()["results"]


def test_a_time_with_an_offset_postgresql_refuses_is_compared_in_utc(office):
    response = client_for(office, "lto_admin").get(
        "/api/v1/clearances/", {"due_after": "0247-09-27T12:48:38-23:42"}
    )

    assert len(_ids(response)) == 6
