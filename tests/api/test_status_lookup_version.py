"""The status lookup's ETag is read before the body is rendered: a 304 costs two queries, and
every change that alters the body alters the ETag (so a stale one gets the new body)."""

from __future__ import annotations

import datetime as dt

from django.db import connection
from django.test.utils import CaptureQueriesContext

from clearance import services as clearance_services
from registry import services as registry_services
from tests.api.conftest import Office, client_for
from tests.conftest import claim_and_approve, registered_application
from tests.registry.test_holds import lift, place_stolen

STATUS = "/api/v1/status/"


def _lookup(office: Office, caller: str = "hpg_read_key", **query):
    client = client_for(office, caller)
    query = query or {"reference": office.application.reference}
    return client, query


def test_a_304_by_key_costs_two_queries_and_renders_nothing(office):
    client, query = _lookup(office)
    etag = client.get(STATUS, query)["ETag"]

    # The key comes from the cache; then the caller's memberships, and the application
    # found with its version (its hold and its clearances' versions as subqueries).
    with CaptureQueriesContext(connection) as queries:
        response = client.get(STATUS, query, HTTP_IF_NONE_MATCH=etag)

    assert (response.status_code, response.content) == (304, b"")
    assert len(queries) <= 2, [q["sql"][:120] for q in queries]


def test_a_200_by_a_cached_key_costs_six_queries(office, django_assert_num_queries):
    client, query = _lookup(office)
    client.get(STATUS, query)

    # Memberships (1), the application with its version (1), the caller's clearances through
    # their funnel with their latest receipts (4).
    with django_assert_num_queries(6):
        assert client.get(STATUS, query).status_code == 200


def _etag_and_body(client, query):
    response = client.get(STATUS, query)
    assert response.status_code == 200, response.content
    return response["ETag"], response.json()


def _after(client, query, etag):
    """The answer to a client that holds ``etag``: it must be a full one, with a new ETag."""
    response = client.get(STATUS, query, HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 200, "a changed answer was served as 304"
    assert response["ETag"] != etag
    return response.json()


def test_a_hold_placed_or_lifted_changes_the_etag_and_the_answer_says_so(office):
    client, query = _lookup(office)
    etag, before = _etag_and_body(client, query)
    assert before["on_hold"] is False

    hold = place_stolen(office.world, office.application.vehicle.vin)
    held = _after(client, query, etag)
    held_etag = client.get(STATUS, query)["ETag"]
    lift(office.world, hold)
    lifted = client.get(STATUS, query, HTTP_IF_NONE_MATCH=held_etag)

    assert held["on_hold"] is True
    # The body is the one before the hold again, and so is its (strong) ETag.
    assert (lifted.status_code, lifted["ETag"], lifted.json()) == (200, etag, before)


def test_a_clearance_claimed_then_decided_changes_the_etag_each_time(office):
    client, query = _lookup(office)
    etag, before = _etag_and_body(client, query)

    request = office.requests["HPG"]
    clearance_services.clearance_claim(request_id=request.pk, officer=office.world.hpg_officer)
    claimed = _after(client, query, etag)
    etag = client.get(STATUS, query)["ETag"]
    claim_and_approve_decision(office)
    decided = _after(client, query, etag)

    assert [c["status"] for c in (before, claimed, decided) for c in c["clearances"]] == [
        "pending",
        "in_review",
        "approved",
    ]
    assert decided["clearances"][0]["ledger"]["tx_id"] != before["clearances"][0]["ledger"]["tx_id"]


def claim_and_approve_decision(office: Office) -> None:
    from chaincode.rules import ClearanceStatus
    from tests.conftest import findings_for

    request = office.requests["HPG"]
    clearance_services.clearance_decide(
        request_id=request.pk,
        officer=office.world.hpg_officer,
        decision=ClearanceStatus.APPROVED,
        remarks="Checked.",
        findings=findings_for(request),
    )


def test_the_application_s_own_status_changes_the_etag(office):
    client, query = _lookup(office, "owner")
    etag, before = _etag_and_body(client, query)

    for request in office.requests.values():
        claim_and_approve(office.world, request)
    after = _after(client, query, etag)

    assert before["status"] != after["status"]


def test_a_renewal_is_the_plate_s_latest_application_with_a_new_etag(office):
    world = office.world
    first = registered_application(world, plate="NAA 1234")
    client, query = _lookup(office, "owner", plate="NAA 1234")
    etag, before = _etag_and_body(client, query)

    registry_services.application_create(
        applicant=world.owner,
        vehicle_id=first.vehicle_id,
        type="renewal",
        today=first.period_end - dt.timedelta(days=10),
    )
    after = _after(client, query, etag)

    assert (before["type"], after["type"]) == ("new", "renewal")


def test_an_etag_is_no_pass_to_an_application_the_caller_may_not_see(office):
    etag = client_for(office, "owner").get(STATUS, {"reference": office.application.reference})[
        "ETag"
    ]

    other = client_for(office, "other_owner").get(
        STATUS, {"reference": office.application.reference}, HTTP_IF_NONE_MATCH=etag
    )

    assert other.status_code == 404


def test_two_keys_of_other_organisations_see_other_clearances_and_other_etags(office):
    from organisations.services import api_key_create

    hpg = client_for(office, "hpg_read_key").get(
        STATUS, {"reference": office.application.reference}
    )
    _, insurer_key = api_key_create(
        organisation_id=office.world.insurer.pk,
        admin=office.world.lto_admin,
        name="claims",
        scopes=["read"],
    )
    office.keys["insurer"] = insurer_key
    insurer = client_for(office, "insurer").get(
        STATUS, {"reference": office.application.reference}, HTTP_IF_NONE_MATCH=hpg["ETag"]
    )

    assert insurer.status_code == 200
    assert [c["kind"] for c in insurer.json()["clearances"]] == ["INSURANCE"]
