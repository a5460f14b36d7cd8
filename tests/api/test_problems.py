"""Every error leaves the API as application/problem+json with a stable code."""

from __future__ import annotations

import json

import pytest
from rest_framework.test import APIClient

from tests.api.conftest import client_for

PROBLEM_KEYS = {"type", "title", "status", "detail", "code", "retryable"}


def assert_problem(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert set(body) >= PROBLEM_KEYS
    assert (body["status"], body["code"]) == (status, code)
    assert body["type"] == f"urn:talaan:problem:{code}"
    return body


def test_no_credentials_is_401_with_a_bearer_challenge(api_client):
    response = api_client.get("/api/v1/clearances/")

    assert_problem(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"] == 'Bearer realm="talaan"'


@pytest.mark.parametrize(
    ("key", "detail"),
    [
        ("tln_deadbeef_not-a-real-secret", "Unknown API key."),
        ("not-a-talaan-key", "Malformed API key; expected tln_<prefix>_<secret>."),
    ],
)
def test_an_unknown_or_malformed_key_is_401(db, api_client, key, detail):
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")

    body = assert_problem(api_client.get("/api/v1/clearances/"), 401, "authentication_failed")
    assert body["detail"] == detail


@pytest.mark.parametrize(
    "authorization", ["Basic b3duZXI6c2VjcmV0", "Token abc", "tln_x_y", " ", "''"]
)
def test_credentials_in_another_scheme_are_refused_not_ignored_for_the_session(
    office, authorization
):
    # The owner is signed in: a client that sent these credentials must not be served as
    # the owner regardless.
    client = client_for(office, "owner")
    client.credentials(HTTP_AUTHORIZATION=authorization)

    response = client.get("/api/v1/applications/")

    body = assert_problem(response, 401, "authentication_failed")
    assert "Bearer" in body["detail"]
    assert response["WWW-Authenticate"] == 'Bearer realm="talaan"'


@pytest.mark.parametrize(
    ("caller", "detail"),
    [("revoked_key", "This API key was revoked."), ("expired_key", "This API key has expired.")],
)
def test_a_revoked_or_expired_key_is_401_saying_why(office, caller, detail):
    response = client_for(office, caller).get("/api/v1/clearances/")

    assert assert_problem(response, 401, "authentication_failed")["detail"] == detail


def test_a_request_the_caller_may_not_see_is_404(office):
    response = client_for(office, "insurer_officer").get(
        f"/api/v1/clearances/{office.requests['HPG'].pk}/"
    )
    assert_problem(response, 404, "not_found")


def test_an_unknown_api_path_is_a_404_problem(db, api_client):
    assert_problem(api_client.get("/api/v1/no-such-thing/"), 404, "not_found")


def test_a_wrong_method_is_405(office):
    response = client_for(office, "hpg_officer").delete("/api/v1/clearances/")
    assert_problem(response, 405, "method_not_allowed")


def test_malformed_json_is_a_400_parse_error(office):
    response = client_for(office, "hpg_decide_key").post(
        f"/api/v1/clearances/{office.requests['HPG'].pk}/decide/",
        data="{not json",
        content_type="application/json",
    )
    assert_problem(response, 400, "parse_error")


def test_a_missing_scope_is_403(office):
    response = client_for(office, "hpg_read_key").post(
        f"/api/v1/clearances/{office.requests['HPG'].pk}/claim/"
    )
    body = assert_problem(response, 403, "permission_denied")
    assert body["detail"] == "This API key lacks the 'decide' scope."


def test_a_bad_filter_is_400_naming_the_parameter(office):
    response = client_for(office, "hpg_officer").get("/api/v1/clearances/", {"status": "lost"})

    body = assert_problem(response, 400, "invalid")
    assert set(body["errors"]) == {"status"}


def test_a_session_post_without_csrf_token_is_refused(office):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(office.world.hpg_officer)

    response = client.post(f"/api/v1/clearances/{office.requests['HPG'].pk}/claim/")

    assert_problem(response, 403, "permission_denied")
    assert "CSRF" in response.json()["detail"]
    office.requests["HPG"].refresh_from_db()
    assert office.requests["HPG"].status == "pending"


def test_an_unexpected_error_under_the_api_is_a_500_problem(rf):
    from api.problems import api_aware_500

    response = api_aware_500(rf.get("/api/v1/clearances/"))

    assert response.status_code == 500
    assert response["Content-Type"] == "application/problem+json"
    assert json.loads(response.content)["code"] == "server_error"
