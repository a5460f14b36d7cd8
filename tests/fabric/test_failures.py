"""What the app sees when the Fabric peer refuses, is gone, is slow, or loses an answer."""

from __future__ import annotations

import json
import uuid

import grpc
import pytest

from chaincode.rules import ClearanceStatus
from clearance import services as clearance_services
from kernel.errors import describe
from ledger import get_ledger
from ledger.base import ClearanceChange, actor_pseudonym
from ledger.exceptions import LedgerRejected, LedgerUnavailable
from tests.clearance.test_ledger_failures import snapshot
from tests.conftest import findings_for, sent_for_clearance


@pytest.fixture
def claimed(world, fabric):
    _, requests = sent_for_clearance(world)
    request = requests["HPG"]
    clearance_services.clearance_claim(request_id=request.pk, officer=world.hpg_officer)
    return request


def decide(world, request, change_id=None):
    return clearance_services.clearance_decide(
        request_id=request.pk,
        officer=world.hpg_officer,
        decision=ClearanceStatus.APPROVED,
        remarks="Numbers match.",
        findings=findings_for(request),
        change_id=change_id,
    )


def test_hpg_cannot_decide_an_insurance_clearance_and_nothing_is_saved(world, fabric):
    _, requests = sent_for_clearance(world)
    insurance = requests["INSURANCE"]
    clearance_services.clearance_claim(request_id=insurance.pk, officer=world.insurer_officer)
    blocks_before = len(fabric.committed())
    before = snapshot()
    # The app's own rules would stop this; here the chaincode must, from the signer's MSP.
    forged = ClearanceChange(
        clearance_id=str(insurance.public_id),
        vin=insurance.application.vehicle.vin,
        kind="INSURANCE",
        from_status=ClearanceStatus.IN_REVIEW,
        to_status=ClearanceStatus.APPROVED,
        change_id=str(uuid.uuid4()),
        actor_id=actor_pseudonym(world.hpg_officer.pk),
        remarks_digest="",
        signer_msp="HPGMSP",
    )

    with pytest.raises(LedgerRejected) as refusal:
        get_ledger().update_clearance_status(forged)

    assert snapshot() == before
    assert len(fabric.committed()) == blocks_before
    assert "HPG" in str(refusal.value) and "INSURANCE" in str(refusal.value).upper()
    assert "chaincode response" not in str(refusal.value)


def test_a_chaincode_refusal_is_shown_to_the_user_with_nothing_saved(world, claimed, fabric):
    # Someone else's decision reached the ledger first: the chaincode refuses this one.
    ledger_state = json.loads(fabric.state_json(f"clearance:{claimed.public_id}"))
    assert ledger_state["status"] == ClearanceStatus.IN_REVIEW
    get_ledger().update_clearance_status(
        ClearanceChange(
            clearance_id=str(claimed.public_id),
            vin=claimed.application.vehicle.vin,
            kind="HPG",
            from_status=ClearanceStatus.IN_REVIEW,
            to_status=ClearanceStatus.REJECTED,
            change_id=str(uuid.uuid4()),
            actor_id=actor_pseudonym(world.hpg_officer_2.pk),
            remarks_digest="",
            signer_msp="HPGMSP",
        )
    )
    before = snapshot()

    with pytest.raises(LedgerRejected) as refusal:
        decide(world, claimed)

    assert snapshot() == before
    info = describe(refusal.value)
    assert (info.status, info.retryable) == (422, False)
    assert info.message == (
        f"Clearance {claimed.public_id} is rejected on the ledger, not in_review."
    )


def test_an_unreachable_peer_saves_nothing_and_asks_for_a_retry(world, claimed, fabric):
    before = snapshot()
    fabric.stop()

    with pytest.raises(LedgerUnavailable) as failure:
        decide(world, claimed)

    assert snapshot() == before
    info = describe(failure.value)
    assert (info.status, info.retryable) == (503, True)
    assert not get_ledger().health().ok


def test_a_peer_slower_than_the_deadline_is_unavailable_after_retries(
    world, claimed, fabric, settings
):
    settings.FABRIC_DEADLINE_SECONDS = 0.3
    settings.FABRIC_RETRIES = 1
    from ledger import adapter

    adapter._build.cache_clear()
    fabric.delay_seconds = 1.0
    before = snapshot()
    calls_before = len(fabric.calls)

    with pytest.raises(LedgerUnavailable):
        decide(world, claimed)

    assert snapshot() == before
    # Tried, retried once after a backoff, and never submitted.
    assert fabric.calls[calls_before:] == ["Endorse", "Endorse"]


def test_a_transient_endorse_failure_is_retried_once_and_succeeds(world, claimed, fabric):
    fabric.fail_next("Endorse", grpc.StatusCode.UNAVAILABLE)
    calls_before = len(fabric.calls)

    change = decide(world, claimed)

    assert fabric.calls[calls_before:] == ["Endorse", "Endorse", "Submit", "CommitStatus"]
    assert change.ledger_tx_id in {tx.tx_id for tx in fabric.committed()}


def test_a_lost_commit_status_is_retried_and_the_change_recorded_once(world, claimed, fabric):
    # The transaction commits but its status answer is lost: the retry, with a new
    # transaction and the same change id, finds the change already on the ledger.
    fabric.fail_next("CommitStatus", grpc.StatusCode.UNAVAILABLE)
    change_id = uuid.uuid4()
    calls_before = len(fabric.calls)

    change = decide(world, claimed, change_id=change_id)

    writes_of_change = [
        tx for tx in fabric.committed() if f"change:{change_id}" in tx.writes and tx.code == 0
    ]
    assert len(writes_of_change) == 1
    # The retry endorsed anew, was told "replayed", submitted nothing, and read the original
    # transaction for its proof (qscc through Evaluate).
    assert fabric.calls[calls_before:] == [
        "Endorse",
        "Submit",
        "CommitStatus",
        "Endorse",
        "CommitStatus",
        "Evaluate",
    ]
    assert change.ledger_tx_id == writes_of_change[0].tx_id
    assert change.ledger_block == writes_of_change[0].number
    assert change.change_id == change_id


def test_an_mvcc_conflict_is_retried_as_a_new_transaction_with_the_same_change_id(
    world, claimed, fabric
):
    fabric.conflict_next_commits = 1

    change = decide(world, claimed)

    statuses = [tx.code for tx in fabric.committed()]
    assert 11 in statuses  # MVCC_READ_CONFLICT, then valid on the retry
    recorded = json.loads(fabric.state_json(f"change:{change.change_id}"))
    assert recorded["tx_id"] == change.ledger_tx_id


def test_a_repeated_change_id_is_a_replay_not_a_second_record(world, claimed, fabric):
    change = decide(world, claimed)
    same = ClearanceChange(
        clearance_id=str(claimed.public_id),
        vin=claimed.application.vehicle.vin,
        kind="HPG",
        from_status=ClearanceStatus.IN_REVIEW,
        to_status=ClearanceStatus.APPROVED,
        change_id=str(change.change_id),
        actor_id=change.actor_pseudonym,
        remarks_digest=change.remarks_digest,
        signer_msp="HPGMSP",
    )
    committed_before = len(fabric.committed())

    receipt = get_ledger().update_clearance_status(same)

    assert receipt.replayed
    assert (receipt.tx_id, receipt.block) == (change.ledger_tx_id, change.ledger_block)
    assert len(fabric.committed()) == committed_before
