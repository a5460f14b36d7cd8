"""Impossible emission readings (issue 19, item 8): the live check never calls them a pass,
and filing them is refused with a message on the form, nothing changed."""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from clearance import services as clearance_services
from clearance.models import EmissionClearanceDetail
from ledger.models import LedgerEntry
from tests.api.test_problems import assert_problem
from tests.clearance.test_pages import approve_emission, claimed_emission_request
from tests.conftest import sent_for_clearance


def _check(client, world, **readings):
    _, requests = sent_for_clearance(world)
    client.force_login(world.emission_officer)
    url = reverse("emission-check", args=[requests["EMISSION"].pk])
    return client.get(url, {"fuel": "gasoline", "co_percent": "1", "hc_ppm": "50", **readings})


def test_the_live_check_calls_a_negative_co_a_mistake_not_within_the_limit(client, world):
    body = _check(client, world, co_percent="-3").content.decode()

    co_line = body.split("<li", 2)[1]
    assert "CO must be between 0 and 100 %." in co_line
    assert "within the limit" not in co_line
    assert "Passes the limits." not in body
    assert "cannot be right as typed" in body


def test_the_live_check_refuses_an_hc_reading_no_analyser_shows(client, world):
    body = _check(client, world, hc_ppm="-1").content.decode()

    assert "HC must be between 0 and 100,000 ppm." in body
    assert "Passes the limits." not in body


def test_an_empty_reading_is_not_yet_a_mistake(client, world):
    body = _check(client, world, co_percent="").content.decode()

    assert "must be between" not in body
    assert "cannot be right as typed" not in body


def test_approving_a_negative_co_is_refused_on_the_form_and_changes_nothing(client, world):
    request = claimed_emission_request(client, world)
    entries = LedgerEntry.objects.count()

    response = approve_emission(client, request, co_percent="-3")

    assert response.status_code == 422
    assert "CO must be between 0 and 100 %." in response.content.decode()
    request.refresh_from_db()
    assert request.status == "in_review"
    assert not EmissionClearanceDetail.objects.filter(request=request).exists()
    assert LedgerEntry.objects.count() == entries


def test_returning_with_an_opacity_over_100_is_refused_and_changes_nothing(client, world):
    request = claimed_emission_request(client, world)

    response = approve_emission(
        client, request, decision="returned", remarks="Test again.", opacity_percent="140"
    )

    assert response.status_code == 422
    assert "Smoke opacity must be between 0 and 100 %." in response.content.decode()
    request.refresh_from_db()
    assert request.status == "in_review"


def test_the_api_refuses_a_negative_co_with_a_422_problem_and_changes_nothing(world):
    _, requests = sent_for_clearance(world)
    request = requests["EMISSION"]
    clearance_services.clearance_claim(request_id=request.pk, officer=world.emission_officer)
    client = APIClient()
    client.force_login(world.emission_officer)
    findings = {
        "testing_centre": "Maharlika ETC",
        "certificate_number": "ETC-77",
        "test_date": timezone.localdate().isoformat(),
        "fuel": "gasoline",
        "co_percent": "-3.00",
        "hc_ppm": 100,
    }

    response = client.post(
        f"/api/v1/clearances/{request.pk}/decide/",
        {"decision": "approved", "remarks": "", "findings": findings},
        format="json",
    )

    body = assert_problem(response, 422, response.json().get("code", ""))
    assert "CO must be between 0 and 100 %." in str(body)
    request.refresh_from_db()
    assert request.status == "in_review"
    assert not EmissionClearanceDetail.objects.filter(request=request).exists()
