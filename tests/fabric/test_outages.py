"""Outages a real Fabric network has, as its gateway words them: retryable, never refusals.

The test peer answers with the gRPC codes and detail texts of Fabric 2.5 (see
``tests/fabric/peer.py``); only a detail saying "chaincode response N, ..." is the chaincode
refusing the change.
"""

from __future__ import annotations

from dataclasses import asdict

import pytest
from rest_framework.test import APIClient

from chaincode.rules import ClearanceStatus
from clearance import services as clearance_services
from clearance.models import ClearanceRequest
from kernel.errors import describe
from ledger import get_ledger
from ledger.exceptions import LedgerUnavailable
from tests.clearance.test_ledger_failures import snapshot
from tests.conftest import findings_for, sent_for_clearance
from tests.fabric.peer import (
    CHAINCODE_UNREACHABLE,
    ENDORSERS_UNREACHABLE,
    NO_ENDORSEMENT_PLAN,
    PeerFault,
)

OUTAGES = {
    "no endorsement plan after a peer restart": NO_ENDORSEMENT_PLAN,
    "two endorsing peers refuse connections": ENDORSERS_UNREACHABLE,
    "the chaincode server cannot be reached": CHAINCODE_UNREACHABLE,
}


@pytest.fixture
def claimed(world, fabric) -> ClearanceRequest:
    _, requests = sent_for_clearance(world)
    request = requests["HPG"]
    clearance_services.clearance_claim(request_id=request.pk, officer=world.hpg_officer)
    return request


def decide_over_http(world, request: ClearanceRequest):
    client = APIClient()
    client.force_login(world.hpg_officer)
    findings = asdict(findings_for(request))
    return client.post(
        f"/api/v1/clearances/{request.pk}/decide/",
        {"decision": "approved", "remarks": "Numbers match.", "findings": findings},
        format="json",
    )


@pytest.mark.parametrize("fault", OUTAGES.values(), ids=OUTAGES.keys())
def test_an_outage_is_a_retryable_503_for_the_user_and_nothing_is_saved(
    world, claimed, fabric, fault: PeerFault
):
    fabric.fail_next("Endorse", fault, times=10)
    before = snapshot()
    committed_before = len(fabric.committed())
    calls_before = len(fabric.calls)

    response = decide_over_http(world, claimed)

    assert response.status_code == 503, response.content
    body = response.json()
    assert (body["code"], body["retryable"]) == ("ledger_unavailable", True)
    assert snapshot() == before
    assert len(fabric.committed()) == committed_before
    # Retried with backoff (FABRIC_RETRIES=2 in these tests) before giving up.
    assert fabric.calls[calls_before:] == ["Endorse", "Endorse", "Endorse"]


@pytest.mark.parametrize("fault", OUTAGES.values(), ids=OUTAGES.keys())
def test_a_decision_goes_through_once_the_outage_clears_within_the_retries(
    world, claimed, fabric, fault: PeerFault
):
    fabric.fail_next("Endorse", fault, times=2)

    response = decide_over_http(world, claimed)

    assert response.status_code == 200, response.content
    claimed.refresh_from_db()
    assert claimed.status == ClearanceStatus.APPROVED
    change = claimed.status_changes.last()
    assert change.ledger_tx_id in {tx.tx_id for tx in fabric.committed() if tx.code == 0}


def test_with_two_endorsing_peers_down_the_user_is_asked_to_retry_and_the_retry_works(
    world, claimed, fabric
):
    fabric.offline = {"InsuranceMSP", "EmissionMSP"}

    refused = decide_over_http(world, claimed)

    assert refused.status_code == 503, refused.content
    assert refused.json()["retryable"] is True
    claimed.refresh_from_db()
    assert claimed.status == ClearanceStatus.IN_REVIEW

    fabric.offline = {"EmissionMSP"}  # one peer back: a majority can endorse again
    retried = decide_over_http(world, claimed)

    assert retried.status_code == 200, retried.content
    claimed.refresh_from_db()
    assert claimed.status == ClearanceStatus.APPROVED


def test_with_the_chaincode_server_down_decisions_and_reads_are_unavailable_not_refused(
    world, claimed, fabric
):
    fabric.chaincode_reachable = False

    with pytest.raises(LedgerUnavailable) as failure:
        clearance_services.clearance_decide(
            request_id=claimed.pk,
            officer=world.hpg_officer,
            decision=ClearanceStatus.APPROVED,
            remarks="Numbers match.",
            findings=findings_for(claimed),
        )

    assert (describe(failure.value).status, describe(failure.value).retryable) == (503, True)
    with pytest.raises(LedgerUnavailable):
        get_ledger().get_change("00000000-0000-0000-0000-000000000000")
    assert not get_ledger().health().ok


def test_no_retry_starts_after_the_retry_window(world, claimed, fabric, settings):
    from ledger import adapter

    settings.FABRIC_RETRIES = 5
    settings.FABRIC_RETRY_SECONDS = 0  # the window closes at once: one attempt, then 503
    adapter._build.cache_clear()
    fabric.fail_next("Endorse", NO_ENDORSEMENT_PLAN, times=10)
    calls_before = len(fabric.calls)

    response = decide_over_http(world, claimed)

    assert response.status_code == 503, response.content
    assert fabric.calls[calls_before:] == ["Endorse"]


def test_a_chaincode_refusal_among_unreachable_peers_is_still_a_refusal(world, claimed, fabric):
    # The gateway's first choice could not be dialled; the next peer ran the chaincode, which
    # refused: the detail that says "chaincode response" decides, whatever else is there.
    refusal = f"Clearance {claimed.public_id} is rejected on the ledger, not in_review."
    fabric.fail_next(
        "Endorse",
        PeerFault(
            ENDORSERS_UNREACHABLE.code,
            "failed to endorse transaction, see attached details for more info",
            (
                ENDORSERS_UNREACHABLE.details[0],
                ("HPGMSP", f"chaincode response 500, {refusal}"),
            ),
        ),
    )
    calls_before = len(fabric.calls)

    response = decide_over_http(world, claimed)

    assert response.status_code == 422, response.content
    body = response.json()
    assert (body["code"], body["retryable"], body["detail"]) == ("ledger_rejected", False, refusal)
    assert fabric.calls[calls_before:] == ["Endorse"]  # a refusal is not retried
