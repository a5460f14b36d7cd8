"""Throttling per API key and per user, answering 429 problem+json with Retry-After."""

from __future__ import annotations

from tests.api.conftest import client_for
from tests.api.test_problems import assert_problem


def test_a_key_over_its_rate_gets_429_with_retry_after(office, settings):
    settings.API_THROTTLE_KEY = "2/min"
    client = client_for(office, "hpg_read_key")

    answers = [client.get("/api/v1/clearances/") for _ in range(3)]

    assert [a.status_code for a in answers[:2]] == [200, 200]
    body = assert_problem(answers[2], 429, "throttled")
    assert body["retryable"] is True
    assert answers[2]["Retry-After"].isdigit()
    assert 1 <= int(answers[2]["Retry-After"]) <= 60


def test_keys_are_counted_separately_from_each_other_and_from_people(office, settings):
    settings.API_THROTTLE_KEY = "1/min"
    settings.API_THROTTLE_USER = "1/min"
    client_for(office, "hpg_read_key").get("/api/v1/clearances/")

    # The decide key was issued by the same admin, yet has its own allowance; so has the
    # officer signed in with a session.
    assert client_for(office, "hpg_decide_key").get("/api/v1/clearances/").status_code == 200
    assert client_for(office, "hpg_officer").get("/api/v1/clearances/").status_code == 200
    assert_problem(client_for(office, "hpg_read_key").get("/api/v1/clearances/"), 429, "throttled")


def test_a_signed_in_user_over_the_user_rate_gets_429(office, settings):
    settings.API_THROTTLE_USER = "1/min"
    client = client_for(office, "owner")
    client.get("/api/v1/applications/")

    response = client.get(f"/api/v1/applications/{office.application.pk}/")

    assert_problem(response, 429, "throttled")
    assert int(response["Retry-After"]) >= 1
