"""Claiming and deciding through the API: the same service, ledger and history as the browser."""

from __future__ import annotations

import uuid
from dataclasses import asdict

from rest_framework.test import APIClient

from chaincode.rules import ClearanceStatus
from clearance import services as clearance_services
from clearance.models import ClearanceRequest, HpgClearanceDetail
from ledger.models import LedgerEntry
from notifications.models import Notification
from tests.api.conftest import Office, client_for
from tests.api.test_problems import assert_problem
from tests.factories import hpg_findings, insurance_cover


def _decide(client: APIClient, request: ClearanceRequest, payload: dict):
    return client.post(f"/api/v1/clearances/{request.pk}/decide/", payload, format="json")


def _approval(request: ClearanceRequest, **overrides) -> dict:
    findings = asdict(hpg_findings(request.application.vehicle, **overrides))
    return {"decision": "approved", "remarks": "Checked.", "findings": findings}


def _claimed(office: Office) -> ClearanceRequest:
    request = office.requests["HPG"]
    clearance_services.clearance_claim(request_id=request.pk, officer=office.world.hpg_officer)
    return request


def test_claiming_through_the_api_records_the_change_on_the_ledger(office):
    request = office.requests["HPG"]

    response = client_for(office, "hpg_officer").post(f"/api/v1/clearances/{request.pk}/claim/")

    assert response.status_code == 200
    request.refresh_from_db()
    assert (request.status, request.assigned_to) == ("in_review", office.world.hpg_officer)
    assert response.json()["ledger"]["tx_id"] == request.status_changes.last().ledger_tx_id


def test_deciding_through_the_api_updates_the_request_the_ledger_and_the_history(
    office, django_capture_on_commit_callbacks
):
    request = _claimed(office)
    change_id = uuid.uuid4()

    with django_capture_on_commit_callbacks(execute=True):
        response = _decide(
            client_for(office, "hpg_decide_key"),
            request,
            {**_approval(request), "change_id": str(change_id)},
        )

    assert response.status_code == 200, response.content
    request.refresh_from_db()
    assert request.status == ClearanceStatus.APPROVED
    assert request.hpg_detail.certificate_number == "HPG-0001"
    change = request.status_changes.last()
    assert (change.change_id, change.from_status, change.to_status) == (
        change_id,
        "in_review",
        "approved",
    )
    # A key acts as the admin who created it: the history names an accountable person.
    assert change.actor == office.world.hpg_admin
    assert LedgerEntry.objects.filter(tx_id=change.ledger_tx_id).exists()
    body = response.json()
    assert body["change_id"] == str(change_id)
    assert (body["ledger"]["tx_id"], body["ledger"]["block"]) == (
        change.ledger_tx_id,
        change.ledger_block,
    )
    assert Notification.objects.filter(
        recipient=office.world.owner, event="clearance_approved"
    ).exists()


def test_retrying_a_decision_with_its_change_id_records_it_once(office):
    request = _claimed(office)
    payload = {**_approval(request), "change_id": str(uuid.uuid4())}
    client = client_for(office, "hpg_officer")

    first = _decide(client, request, payload)
    second = _decide(client, request, payload)

    assert (first.status_code, second.status_code) == (200, 200)
    assert first.json() == second.json()
    assert request.status_changes.filter(to_status="approved").count() == 1


def test_deciding_an_already_decided_request_is_a_409_conflict(office):
    request = _claimed(office)
    client = client_for(office, "hpg_officer")
    assert _decide(client, request, _approval(request)).status_code == 200

    response = _decide(client, request, {"decision": "rejected", "remarks": "Second thoughts."})

    body = assert_problem(response, 409, "conflict")
    assert body["retryable"] is True
    request.refresh_from_db()
    assert request.status == ClearanceStatus.APPROVED


def test_deciding_a_request_nobody_claimed_is_refused_by_the_workflow(office):
    request = office.requests["HPG"]

    response = _decide(client_for(office, "hpg_officer"), request, _approval(request))

    assert_problem(response, 409, "transition_not_allowed")
    request.refresh_from_db()
    assert request.status == ClearanceStatus.PENDING


def test_an_unknown_decision_is_400_naming_the_field(office):
    request = _claimed(office)

    response = _decide(client_for(office, "hpg_officer"), request, {"decision": "maybe"})

    assert set(assert_problem(response, 400, "invalid")["errors"]) == {"decision"}


def test_findings_of_the_wrong_shape_are_400_naming_the_nested_field(office):
    request = _claimed(office)
    payload = _approval(request)
    payload["findings"]["macro_etching_result"] = "looks fine"

    response = _decide(client_for(office, "hpg_officer"), request, payload)

    errors = assert_problem(response, 400, "invalid")["errors"]
    assert set(errors["findings"]) == {"macro_etching_result"}


def test_findings_of_another_kind_are_422_naming_what_this_kind_lacks(office):
    # The schema accepts any kind's findings (it cannot know the request's kind): such a
    # request is well formed, and refused by the request's kind, so 422 rather than 400.
    request = _claimed(office)
    cover = asdict(insurance_cover(request.application))
    payload = {"decision": "approved", "remarks": "", "findings": cover}

    response = _decide(client_for(office, "hpg_officer"), request, payload)

    [message] = assert_problem(response, 422, "invalid")["errors"]["findings"]
    assert message.startswith("These are not HPG findings:")
    assert "macro_etching_result" in message
    request.refresh_from_db()
    assert request.status == "in_review"


def test_findings_that_break_the_rules_are_422_naming_the_field(office):
    request = _claimed(office)

    response = _decide(
        client_for(office, "hpg_officer"),
        request,
        _approval(request, macro_etching_result="tampered"),
    )

    body = assert_problem(response, 422, "invalid")
    assert set(body["errors"]) == {"macro_etching_result"}
    request.refresh_from_db()
    assert request.status == ClearanceStatus.IN_REVIEW
    assert request.status_changes.count() == 2


def test_rejecting_without_remarks_is_422_naming_remarks(office):
    request = _claimed(office)

    response = _decide(client_for(office, "hpg_officer"), request, {"decision": "rejected"})

    assert set(assert_problem(response, 422, "invalid")["errors"]) == {"remarks"}


def test_a_ledger_outage_is_a_retryable_503_and_nothing_is_saved(office, monkeypatch):
    from ledger import adapter
    from ledger.exceptions import LedgerUnavailable
    from tests.clearance.test_ledger_failures import FailingLedger

    request = _claimed(office)
    monkeypatch.setattr(adapter, "configured_ledger", lambda: FailingLedger(LedgerUnavailable()))

    response = _decide(client_for(office, "hpg_officer"), request, _approval(request))

    body = assert_problem(response, 503, "ledger_unavailable")
    assert body["retryable"] is True
    request.refresh_from_db()
    assert request.status == ClearanceStatus.IN_REVIEW
    assert not HpgClearanceDetail.objects.filter(request=request).exists()
