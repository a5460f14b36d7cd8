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


# The version query is compiled once per shape of caller and reused with the caller's own ids
# (registry.status_lookup._Template): these prove it is the very query the ORM builds for each
# caller, and that the checks around it still hold on the 304 path.


def _callers(office: Office):
    from organisations.access import Caller
    from organisations.models import ApiKey

    world = office.world
    key = ApiKey.objects.get(prefix=office.keys["hpg_read_key"].split("_")[1])
    return {
        "owner": Caller(world.owner),
        "other_owner": Caller(world.other_owner),
        "LTO staff": Caller(world.lto_admin),
        "HPG officer": Caller(world.hpg_officer),
        "HPG key": Caller(key.created_by, key),
    }


def test_the_compiled_version_query_is_the_orm_s_own_for_every_kind_of_caller(office):
    from registry import status_lookup

    for name, caller in _callers(office).items():
        for field, value in (
            ("reference", office.application.reference),
            ("vin", office.application.vehicle.vin),
        ):
            template = status_lookup._Template.compile(caller, field)
            rows, _ = status_lookup._version_query(caller, field, value)
            sql, params = rows.query.get_compiler(connection=connection).as_sql()

            assert template.sql == sql, name
            assert [read(caller, value) for read in template.params] == list(params), name
            assert template.run(caller, value) == next(iter(rows), None), name


def test_a_shape_compiled_for_one_owner_shows_another_owner_nothing_of_it(office):
    from registry import status_lookup

    callers = _callers(office)
    mine = status_lookup.latest_application(
        callers["owner"], field="reference", value=office.application.reference
    )
    theirs = status_lookup.latest_application(
        callers["other_owner"], field="reference", value=office.application.reference
    )

    assert mine is not None and mine.application.pk == office.application.pk
    assert theirs is None
    assert any(t is not None for t in status_lookup._templates.values())


def test_a_build_that_reads_the_database_is_never_kept_as_a_template(office, monkeypatch):
    from clearance.participation import ClearanceParticipant
    from organisations.models import Membership
    from registry import status_lookup

    original = ClearanceParticipant.status_version

    def reading(self, *, caller):
        # A participant that asks the database while building: its answer would be the
        # stand-in caller's, so the query must be built afresh for each real caller.
        Membership.objects.filter(user_id=caller.user_id).exists()
        return original(self, caller=caller)

    monkeypatch.setattr(ClearanceParticipant, "status_version", reading)
    monkeypatch.setattr(status_lookup, "_templates", {})
    client, query = _lookup(office)

    etag = client.get(STATUS, query)["ETag"]

    assert list(status_lookup._templates.values()) == [None]
    assert client.get(STATUS, query, HTTP_IF_NONE_MATCH=etag).status_code == 304


def test_a_key_revoked_between_two_304s_is_refused_at_once(office):
    from organisations.models import ApiKey
    from organisations.services import api_key_revoke

    client, query = _lookup(office)
    etag = client.get(STATUS, query)["ETag"]
    assert client.get(STATUS, query, HTTP_IF_NONE_MATCH=etag).status_code == 304

    key = ApiKey.objects.get(prefix=office.keys["hpg_read_key"].split("_")[1])
    api_key_revoke(key_id=key.pk, admin=office.world.hpg_admin)
    response = client.get(STATUS, query, HTTP_IF_NONE_MATCH=etag)

    assert response.status_code == 401
    assert "revoked" in response.json()["detail"]


def test_every_304_counts_against_the_key_s_rate(office, settings):
    client, query = _lookup(office)
    etag = client.get(STATUS, query)["ETag"]
    settings.API_THROTTLE_KEY = "3/min"

    answers = [client.get(STATUS, query, HTTP_IF_NONE_MATCH=etag) for _ in range(3)]

    # The 200 above and two 304s fill the allowance of three; the third 304 is refused.
    assert [a.status_code for a in answers] == [304, 304, 429]
