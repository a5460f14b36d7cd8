"""A refusal that crosses a Fabric peer keeps its reason and parameters: the app words it in
the reader's language, and English readers see the chaincode's own sentence."""

from __future__ import annotations

import uuid

import pytest
from django.utils import translation

from chaincode.rules import ClearanceStatus
from kernel.errors import describe
from ledger import get_ledger
from ledger.base import ClearanceChange, actor_pseudonym
from ledger.exceptions import LedgerRejected
from tests.fabric.test_failures import claimed, decide  # noqa: F401  # the fixture, and the act


def test_a_refusal_through_the_peer_is_worded_in_filipino_from_its_reason(world, claimed, fabric):  # noqa: F811
    # Another writer moved the request on the ledger; the app still thinks it is in review.
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

    with pytest.raises(LedgerRejected) as refusal:
        decide(world, claimed)

    assert refusal.value.reason == "CLEARANCE_STATUS_DIFFERS"
    assert refusal.value.params == {
        "clearance": str(claimed.public_id),
        "ledger_status": "rejected",
        "from": "in_review",
    }
    with translation.override("fil"):
        filipino = describe(refusal.value).message
    with translation.override("en"):
        english = describe(refusal.value).message
    assert filipino == f"Tinanggihan ang clearance {claimed.public_id} sa ledger, hindi sinusuri."
    assert english == f"Clearance {claimed.public_id} is rejected on the ledger, not in_review."
