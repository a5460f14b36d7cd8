"""What the schema says inputs may be is what the server accepts: every value it allows is
served, and what the server refuses the schema refuses too (schemathesis checks the rest)."""

from __future__ import annotations

import re

import pytest
from drf_spectacular.generators import SchemaGenerator

from tests.api.conftest import client_for
from tests.api.test_problems import assert_problem


@pytest.fixture
def schema(db) -> dict:
    return SchemaGenerator().get_schema(request=None, public=True)


def _parameter(schema: dict, path: str, name: str) -> dict:
    [parameter] = [p for p in schema["paths"][path]["get"]["parameters"] if p["name"] == name]
    return parameter


def test_the_status_lookup_declares_exactly_one_of_reference_vin_or_plate(schema):
    lookup = _parameter(schema, "/api/v1/status/", "lookup")

    assert (lookup["in"], lookup["required"], lookup["style"], lookup["explode"]) == (
        "query",
        True,
        "form",
        True,
    )
    options = lookup["schema"]["oneOf"]
    assert [option["required"] for option in options] == [["reference"], ["vin"], ["plate"]]
    assert all(option["additionalProperties"] is False for option in options)


@pytest.mark.parametrize(
    "query", [{}, {"reference": "TLN-X", "vin": "X"}, {"plate": "  "}, {"vin": "AB\x00C"}]
)
def test_a_status_lookup_the_schema_refuses_is_a_400(office, query):
    response = client_for(office, "owner").get("/api/v1/status/", query)

    assert_problem(response, 400, "invalid")


def test_a_status_lookup_by_one_of_them_is_served(office):
    reference = office.application.reference

    response = client_for(office, "owner").get("/api/v1/status/", {"reference": reference})

    assert response.status_code == 200, response.content


def test_free_text_in_bodies_and_queries_refuses_nul_and_required_text_refuses_blanks(schema):
    vehicle = schema["components"]["schemas"]["VehicleInputRequest"]["properties"]
    decision = schema["components"]["schemas"]["ClearanceDecisionRequest"]["properties"]
    application_filter = _parameter(schema, "/api/v1/clearances/", "application")["schema"]

    for required_text in (vehicle["make"], vehicle["chassis_number"]):
        assert not re.search(required_text["pattern"], "   ")
        assert not re.search(required_text["pattern"], "Toy\x00ota")
        assert re.search(required_text["pattern"], " Toyota ")
    for optional_text in (decision["remarks"], application_filter):
        assert re.search(optional_text["pattern"], "")
        assert not re.search(optional_text["pattern"], "a\x00")


def test_text_with_nul_is_a_400_as_the_schema_says(office):
    response = client_for(office, "hpg_officer").get(
        "/api/v1/clearances/", {"application": "TLN\x00X"}
    )

    assert set(assert_problem(response, 400, "invalid")["errors"]) == {"application"}


def test_a_list_that_may_not_be_empty_says_so(schema):
    events = schema["components"]["schemas"]["WebhookSubscriptionInputRequest"]["properties"]
    assert events["events"]["minItems"] == 1


def test_an_empty_list_of_events_is_a_400_as_the_schema_says(office):
    response = client_for(office, "hpg_decide_key").post(
        "/api/v1/webhooks/", {"url": "https://hooks.example.ph/t", "events": []}, format="json"
    )

    assert set(assert_problem(response, 400, "invalid")["errors"]) == {"events"}
