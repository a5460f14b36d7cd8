"""Holds and chattel mortgages through the Fabric backend against the test peer (which runs
the real chaincode server): a hold signed by the organisation that places it and lifted only
by it; a mortgage signed by its lender's own identity from the lenders' CA, the lender read by
the chaincode from the certificate's ``talaan.lender`` attribute, and released or consented to
only by that lender.

Lenders' identities are laid out as ``network.sh enrolLender`` writes them,
``FABRIC_IDENTITIES_DIR/LenderMSP/<lender code>/{cert.pem,key.pem}``. The keepers that confirm
hold and mortgage rows from the listener, and reconcile them, come with the Django side of
holds and mortgages; here the events are checked on the stream itself.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.conf import settings

from chaincode.contract import (
    HOLD_LIFTED_EVENT,
    HOLD_PLACED_EVENT,
    MORTGAGE_ANNOTATED_EVENT,
    MORTGAGE_RELEASED_EVENT,
)
from chaincode.rules import OrgKind
from ledger import get_ledger
from ledger.base import (
    ClearanceChange,
    HoldLifting,
    HoldPlacement,
    MortgageAnnotation,
    MortgageRelease,
    Receipt,
    VehicleRegistration,
)
from ledger.exceptions import LedgerRejected, LedgerUnavailable
from ledger.fabric import protocol
from ledger.fabric.identity import Identity
from tests.fabric.peer import ENDORSEMENT, LENDER_MSP, issue_identity, write_identity

VIN = "JTDBR32E720012345"
OWNER = "a" * 64
ACTOR = "c" * 64
EVIDENCE, RECOVERY, CONSENT = "e" * 64, "f" * 64, "9" * 64
BDO, BPI = "banco-de-oro", "bpi-family"

pytestmark = pytest.mark.django_db


def install(identity: Identity, code: str) -> None:
    """Put a lender's identity where the backend looks for that lender's signer."""
    write_identity(Path(settings.FABRIC_IDENTITIES_DIR) / identity.msp_id / code, identity)


def transaction(fabric, receipt: Receipt):  # type: ignore[no-untyped-def]
    (tx,) = [tx for tx in fabric.committed() if tx.tx_id == receipt.tx_id]
    return tx


def state(fabric, key: str) -> dict | None:  # type: ignore[no-untyped-def]
    value = fabric.state_json(key)
    return json.loads(value) if value else None


def register(change_id: str = "register-1") -> Receipt:
    return get_ledger().register_vehicle(
        VehicleRegistration(
            vin=VIN, record_digest="d" * 64, change_id=change_id, owner=OWNER, signer_msp="LTOMSP"
        )
    )


def stolen_hold() -> HoldPlacement:
    return HoldPlacement(
        hold_id="hold-1",
        vin=VIN,
        reason="stolen",
        evidence_digest=EVIDENCE,
        change_id="hold-placed-1",
        signer_msp="HPGMSP",
    )


def lifting(msp: str, change_id: str) -> HoldLifting:
    return HoldLifting(
        hold_id="hold-1", evidence_digest=RECOVERY, change_id=change_id, signer_msp=msp
    )


def annotation(lender: str = BDO) -> MortgageAnnotation:
    return MortgageAnnotation(
        mortgage_id="mortgage-1",
        vin=VIN,
        consent_digest=CONSENT,
        change_id="mortgage-annotated-1",
        signer_msp=LENDER_MSP,
        signer_identity=lender,
    )


def release(lender: str, change_id: str) -> MortgageRelease:
    return MortgageRelease(
        mortgage_id="mortgage-1", change_id=change_id, signer_msp=LENDER_MSP, signer_identity=lender
    )


@pytest.fixture
def lenders(fabric, pki) -> dict[str, Identity]:
    """Two lenders enrolled by the lenders' CA, each in its own identity folder."""
    enrolled = {code: pki.enrol_lender(code) for code in (BDO, BPI)}
    for code, identity in enrolled.items():
        install(identity, code)
    return enrolled


def test_hpg_places_a_stolen_hold_only_hpg_lifts_it_and_the_lto_is_refused(fabric):
    placed = get_ledger().record(stolen_hold())

    tx = transaction(fabric, placed)
    assert tx.creator_msp == "HPGMSP"
    assert state(fabric, f"holds:{VIN}")["active"] == ["hold-1"]

    with pytest.raises(LedgerRejected, match="Only HPGMSP, which placed hold hold-1, lifts it"):
        get_ledger().record(lifting("LTOMSP", "hold-lifted-by-lto"))
    assert state(fabric, "hold:hold-1")["state"] == "active"

    lifted = get_ledger().record(lifting("HPGMSP", "hold-lifted-1"))

    assert transaction(fabric, lifted).creator_msp == "HPGMSP"
    assert state(fabric, "hold:hold-1")["state"] == "lifted"
    assert state(fabric, f"holds:{VIN}")["active"] == []
    assert get_ledger().get_change("hold-lifted-1")["msp_id"] == "HPGMSP"
    assert get_ledger().get_change("hold-lifted-by-lto") is None


def test_a_held_vin_is_not_registered_until_the_hold_is_lifted(fabric):
    get_ledger().record(stolen_hold())

    with pytest.raises(LedgerRejected, match=rf"Vehicle {VIN} is on hold \(hold-1\)"):
        register()
    assert state(fabric, f"vehicle:{VIN}") is None

    get_ledger().record(lifting("HPGMSP", "hold-lifted-1"))
    register()
    assert state(fabric, f"vehicle:{VIN}")["owner"] == OWNER


def test_a_hold_is_endorsed_by_the_policy_with_one_peer_down(fabric):
    # 3 of the 4 peer organisations: one peer down does not stop a write (fabric-network's
    # README, "The endorsement policy with the dealers and the lenders").
    fabric.offline = {"EmissionMSP"}

    placed = get_ledger().record(stolen_hold())

    endorsers = protocol.read_prepared(transaction(fabric, placed).envelope).endorsers
    assert len(endorsers) == ENDORSEMENT.threshold == 3
    assert set(endorsers) == {"LTOMSP", "HPGMSP", "InsuranceMSP"}


def test_a_lender_annotates_with_its_own_certificate_and_only_it_releases(fabric, lenders):
    register()

    annotated = get_ledger().record(annotation(BDO))

    tx = transaction(fabric, annotated)
    assert tx.creator_msp == LENDER_MSP
    # The certificate the peer saw is banco-de-oro's, not the other lender's.
    assert tx.creator_certificate == lenders[BDO].certificate
    assert tx.creator_certificate != lenders[BPI].certificate
    assert get_ledger().world_state("GetEncumbrance", VIN) == {
        "vin": VIN,
        "mortgage_id": "mortgage-1",
        "lender": BDO,
    }

    with pytest.raises(
        LedgerRejected,
        match=f"Only {BDO}, which annotated mortgage mortgage-1, releases it; {BPI} cannot",
    ):
        get_ledger().record(release(BPI, "mortgage-released-by-bpi"))
    assert get_ledger().world_state("GetEncumbrance", VIN)["lender"] == BDO

    released = get_ledger().record(release(BDO, "mortgage-released-1"))

    assert transaction(fabric, released).creator_certificate == lenders[BDO].certificate
    assert get_ledger().world_state("GetEncumbrance", VIN) is None
    assert state(fabric, "mortgage:mortgage-1")["state"] == "released"


def lender_consent(
    lender: str, change_id: str, current: str, target: str, msp: str = LENDER_MSP
) -> ClearanceChange:
    return ClearanceChange(
        clearance_id="clearance-lender-1",
        vin=VIN,
        kind=OrgKind.LENDER,
        from_status=current,
        to_status=target,
        change_id=change_id,
        actor_id=ACTOR,
        remarks_digest="",
        signer_msp=msp,
        signer_identity=lender,
    )


def test_the_lender_clearance_is_decided_by_the_mortgages_lender_only(fabric, lenders):
    register()
    get_ledger().record(annotation(BDO))
    get_ledger().update_clearance_status(
        lender_consent("", "lender-opened", "", "pending", msp="LTOMSP")
    )

    with pytest.raises(
        LedgerRejected,
        match=f"Only the lender holding the mortgage on vehicle {VIN} decides its LENDER "
        f"clearance; {BPI} does not hold it",
    ):
        get_ledger().update_clearance_status(
            lender_consent(BPI, "lender-claimed-by-bpi", "pending", "in_review")
        )
    assert state(fabric, "clearance:clearance-lender-1")["status"] == "pending"

    get_ledger().update_clearance_status(
        lender_consent(BDO, "lender-claimed", "pending", "in_review")
    )
    approved = get_ledger().update_clearance_status(
        lender_consent(BDO, "lender-approved", "in_review", "approved")
    )

    tx = transaction(fabric, approved)
    assert tx.creator_msp == LENDER_MSP and tx.creator_certificate == lenders[BDO].certificate
    recorded = state(fabric, "clearance:clearance-lender-1")
    assert (recorded["status"], recorded["member"]) == ("approved", BDO)


def test_a_lenders_identity_without_the_attribute_is_refused_by_the_chaincode(fabric, pki):
    register()
    install(pki.enrol_lender(BDO, attributes={"hf.Affiliation": "lenders"}), BDO)

    with pytest.raises(LedgerRejected, match=r"names no lender \(attribute talaan.lender\)"):
        get_ledger().record(annotation(BDO))

    assert state(fabric, "mortgage:mortgage-1") is None
    assert [tx.creator_msp for tx in fabric.committed()] == ["LTOMSP"]


def test_a_lender_certificate_from_the_dealers_ca_is_refused_by_the_peer(fabric, pki):
    # LenderMSP trusts only the lenders' CA: the dealers' CA cannot make a lender.
    forged = issue_identity(pki.member_cas["DealerMSP"], BDO, LENDER_MSP, {"talaan.lender": BDO})
    install(forged, BDO)

    with pytest.raises(LedgerUnavailable, match="the peer refused the signing identity") as err:
        get_ledger().record(annotation(BDO))

    assert "access denied: channel [clearance] creator org [LenderMSP]" in str(err.value)
    assert "Submit" not in fabric.calls


def test_hold_and_mortgage_events_are_streamed_with_their_change_ids(fabric, lenders):
    register()
    receipts = {
        "hold-placed-1": get_ledger().record(stolen_hold()),
        "hold-lifted-1": get_ledger().record(lifting("HPGMSP", "hold-lifted-1")),
        "mortgage-annotated-1": get_ledger().record(annotation(BDO)),
        "mortgage-released-1": get_ledger().record(release(BDO, "mortgage-released-1")),
    }

    streamed = {
        event.tx_id: (event.event_name, json.loads(event.payload)["change_id"])
        for response in get_ledger().events(start_block=0, idle_seconds=0.5)
        for event in response.events
    }

    assert [streamed[receipt.tx_id] for receipt in receipts.values()] == [
        (HOLD_PLACED_EVENT, "hold-placed-1"),
        (HOLD_LIFTED_EVENT, "hold-lifted-1"),
        (MORTGAGE_ANNOTATED_EVENT, "mortgage-annotated-1"),
        (MORTGAGE_RELEASED_EVENT, "mortgage-released-1"),
    ]
    # What a reconcile lists from the ledger: every one of them, by change id.
    assert set(receipts) <= get_ledger().change_ids(idle_seconds=0.5)
