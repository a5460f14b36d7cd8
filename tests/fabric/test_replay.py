"""A replayed change's receipt proves the original transaction, not the replay's proposal."""

from __future__ import annotations

import pytest

from chaincode.rules import ClearanceStatus
from clearance import services as clearance_services
from ledger import get_ledger
from ledger.base import ClearanceChange
from ledger.fabric import protocol
from tests.conftest import findings_for, sent_for_clearance


@pytest.fixture
def decided(world, fabric):
    _, requests = sent_for_clearance(world)
    request = requests["HPG"]
    clearance_services.clearance_claim(request_id=request.pk, officer=world.hpg_officer)
    change = clearance_services.clearance_decide(
        request_id=request.pk,
        officer=world.hpg_officer,
        decision=ClearanceStatus.APPROVED,
        remarks="Numbers match.",
        findings=findings_for(request),
    )
    return request, change


def endorsers_of(fabric, tx_id: str) -> list[str]:
    (tx,) = [tx for tx in fabric.committed() if tx.tx_id == tx_id]
    return protocol.read_prepared(tx.envelope).endorsers


def test_a_replayed_receipt_names_the_endorsers_of_the_original_transaction(world, decided, fabric):
    request, change = decided
    original = endorsers_of(fabric, change.ledger_tx_id)
    assert original == ["HPGMSP", "InsuranceMSP", "LTOMSP"]
    # The Insurance peer goes down: the replay's proposal is endorsed by Emission instead.
    fabric.offline = {"InsuranceMSP"}
    same = ClearanceChange(
        clearance_id=str(request.public_id),
        vin=request.application.vehicle.vin,
        kind="HPG",
        from_status=ClearanceStatus.IN_REVIEW,
        to_status=ClearanceStatus.APPROVED,
        change_id=str(change.change_id),
        actor_id=change.actor_pseudonym,
        remarks_digest=change.remarks_digest,
        signer_msp="HPGMSP",
    )

    receipt = get_ledger().update_clearance_status(same)

    assert receipt.replayed and receipt.tx_id == change.ledger_tx_id
    assert receipt.proof["endorsers"] == original
    assert receipt.proof["validation_code"] == "VALID"
