"""Every caller against every operation: the right status, and nothing of anyone else's."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict

import pytest
from rest_framework.test import APIClient

from clearance import services as clearance_services
from tests.api.conftest import Office, client_for
from tests.factories import hpg_findings

CALLERS = [
    "owner",
    "other_owner",
    "hpg_officer",
    "insurer_officer",
    "lto_admin",
    "hpg_read_key",
    "hpg_decide_key",
    "revoked_key",
    "expired_key",
    "anonymous",
]
UNAUTHENTICATED = {"revoked_key": 401, "expired_key": 401, "anonymous": 401}


def _list(client: APIClient, office: Office):
    return client.get("/api/v1/clearances/")


def _detail(client: APIClient, office: Office):
    return client.get(f"/api/v1/clearances/{office.requests['HPG'].pk}/")


def _claim(client: APIClient, office: Office):
    return client.post(f"/api/v1/clearances/{office.requests['HPG'].pk}/claim/")


def _decide(client: APIClient, office: Office):
    request = office.requests["HPG"]
    clearance_services.clearance_claim(request_id=request.pk, officer=office.world.hpg_officer)
    findings = asdict(hpg_findings(request.application.vehicle))
    payload = {"decision": "approved", "remarks": "Checked.", "findings": findings}
    return client.post(f"/api/v1/clearances/{request.pk}/decide/", payload, format="json")


def _status(client: APIClient, office: Office):
    return client.get("/api/v1/status/", {"reference": office.application.reference})


def _applications(client: APIClient, office: Office):
    return client.get("/api/v1/applications/")


def _application(client: APIClient, office: Office):
    return client.get(f"/api/v1/applications/{office.application.pk}/")


# caller -> expected status; callers not named get the operation's default.
MATRIX: dict[str, tuple[Callable, int, dict[str, int]]] = {
    "list_clearances": (_list, 200, UNAUTHENTICATED),
    "clearance_detail": (
        _detail,
        200,
        {"other_owner": 404, "insurer_officer": 404, **UNAUTHENTICATED},
    ),
    "claim": (
        _claim,
        200,
        {
            "owner": 403,
            "other_owner": 404,
            "insurer_officer": 404,
            "lto_admin": 403,
            "hpg_read_key": 403,
            **UNAUTHENTICATED,
        },
    ),
    "decide": (
        _decide,
        200,
        {
            "owner": 403,
            "other_owner": 404,
            "insurer_officer": 404,
            "lto_admin": 403,
            "hpg_read_key": 403,
            **UNAUTHENTICATED,
        },
    ),
    "status_lookup": (_status, 200, {"other_owner": 404, **UNAUTHENTICATED}),
    "list_applications": (
        _applications,
        200,
        {"hpg_read_key": 403, "hpg_decide_key": 403, **UNAUTHENTICATED},
    ),
    "application_detail": (
        _application,
        200,
        {"other_owner": 404, "hpg_read_key": 403, "hpg_decide_key": 403, **UNAUTHENTICATED},
    ),
}

# Which clearance kinds and whose applications each caller may see at all.
VISIBLE_KINDS = {
    "owner": {"HPG", "INSURANCE", "EMISSION"},
    "other_owner": {"HPG", "INSURANCE", "EMISSION"},
    "hpg_officer": {"HPG"},
    "hpg_read_key": {"HPG"},
    "hpg_decide_key": {"HPG"},
    "insurer_officer": {"INSURANCE"},
    "lto_admin": {"HPG", "INSURANCE", "EMISSION"},
}
VISIBLE_OWNERS = {"owner": {"owner"}, "other_owner": {"other_owner"}}


def _forbidden_strings(office: Office, caller: str) -> list[str]:
    """Identifiers of every request and application the caller must not see, and owners'
    personal data, which no API response carries."""
    world = office.world
    owners = {"owner": (office.application, office.requests)}
    owners["other_owner"] = (office.other_application, office.other_requests)
    kinds = VISIBLE_KINDS.get(caller, set())
    visible_owners = VISIBLE_OWNERS.get(caller, set(owners) if kinds else set())
    forbidden = []
    for who, (application, requests) in owners.items():
        if who not in visible_owners:
            forbidden.append(application.reference)
        for kind, request in requests.items():
            if who not in visible_owners or kind not in kinds:
                forbidden.append(str(request.public_id))
    for person in (world.owner, world.other_owner):
        forbidden += [person.username, person.email, person.last_name]
    return forbidden


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("operation", list(MATRIX))
def test_each_caller_gets_the_right_answer_and_nothing_of_anyone_else(office, operation, caller):
    call, default, exceptions = MATRIX[operation]
    expected = exceptions.get(caller, default)

    response = call(client_for(office, caller), office)

    assert response.status_code == expected, response.content
    if expected >= 400:
        assert response["Content-Type"] == "application/problem+json"
    body = response.content.decode()
    for text in _forbidden_strings(office, caller):
        assert text not in body, f"{operation} shows {caller} {text!r}"


@pytest.mark.parametrize(
    ("caller", "kinds", "owners"),
    [
        ("owner", {"HPG", "INSURANCE", "EMISSION"}, {"owner"}),
        ("hpg_officer", {"HPG"}, {"owner", "other_owner"}),
        ("hpg_read_key", {"HPG"}, {"owner", "other_owner"}),
        ("insurer_officer", {"INSURANCE"}, {"owner", "other_owner"}),
        ("lto_admin", {"HPG", "INSURANCE", "EMISSION"}, {"owner", "other_owner"}),
    ],
)
def test_the_clearance_list_holds_exactly_what_the_caller_may_see(office, caller, kinds, owners):
    by_owner = {"owner": office.requests, "other_owner": office.other_requests}
    expected = {
        request.pk for who in owners for kind, request in by_owner[who].items() if kind in kinds
    }

    response = client_for(office, caller).get("/api/v1/clearances/")

    assert response.status_code == 200
    assert {row["id"] for row in response.json()["results"]} == expected


def test_the_status_lookup_shows_an_organisation_only_its_own_clearance(office):
    response = client_for(office, "hpg_read_key").get(
        "/api/v1/status/", {"vin": office.application.vehicle.vin}
    )

    assert response.status_code == 200
    body = response.json()
    assert body["reference"] == office.application.reference
    assert [(c["kind"], c["status"]) for c in body["clearances"]] == [("HPG", "pending")]
    assert body["clearances"][0]["ledger"]["tx_id"]


def test_the_owner_sees_every_clearance_of_their_application_with_its_receipt(office):
    response = client_for(office, "owner").get(
        "/api/v1/status/", {"reference": office.application.reference}
    )

    clearances = response.json()["clearances"]
    assert [c["kind"] for c in clearances] == ["EMISSION", "HPG", "INSURANCE"]
    change = office.requests["HPG"].status_changes.get()
    hpg = clearances[1]["ledger"]
    assert (hpg["tx_id"], hpg["block"]) == (change.ledger_tx_id, change.ledger_block)


def test_a_key_never_reaches_another_organisations_request(office):
    response = client_for(office, "hpg_decide_key").get(
        f"/api/v1/clearances/{office.requests['INSURANCE'].pk}/"
    )
    assert response.status_code == 404
