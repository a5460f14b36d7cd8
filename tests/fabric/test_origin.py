"""A dealer's origin record through the Fabric backend, signed with that dealer's own identity
from the dealers' CA, its code read by the chaincode from the certificate's attribute.

The identities are laid out as ``network.sh enrolDealer`` writes them,
``FABRIC_IDENTITIES_DIR/DealerMSP/<dealer code>/{cert.pem,key.pem}``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from django.conf import settings

from chaincode.contract import ORIGIN_EVENT
from ledger import get_ledger, keepers
from ledger.base import VehicleOrigin
from ledger.enrolment import certificate_with_attributes
from ledger.exceptions import LedgerRejected, LedgerUnavailable
from ledger.fabric import protocol
from ledger.fabric.identity import Identity
from ledger.fabric.listener import follow
from ledger.models import ListenerCheckpoint
from tests.fabric.peer import DEALER_MSP, ORGANISATIONS, write_identity
from tests.fabric.test_transfer import reconcile

VIN = "JTDBR32E720012345"
DIGEST = "d" * 64
DEALER = "toyota-manila-bay"


def origin(*, change_id: str = "origin-1", msp: str = DEALER_MSP, dealer: str = DEALER):
    return VehicleOrigin(
        vin=VIN, record_digest=DIGEST, change_id=change_id, signer_msp=msp, signer_identity=dealer
    )


pytestmark = pytest.mark.django_db


@pytest.fixture
def identities(fabric) -> Path:
    """FABRIC_IDENTITIES_DIR of the ``fabric`` fixture (each organisation's one identity)."""
    return Path(settings.FABRIC_IDENTITIES_DIR)


def install(identity: Identity, dealer: str = DEALER) -> None:
    """Put an identity where the backend looks for the dealer's signer of its MSP."""
    write_identity(Path(settings.FABRIC_IDENTITIES_DIR) / identity.msp_id / dealer, identity)


def world_state_origin(fabric) -> dict | None:
    value = fabric.state_json(f"origin:{VIN}")
    return json.loads(value) if value else None


def test_a_dealers_origin_is_signed_with_its_own_certificate_and_names_it(fabric, pki, identities):
    dealer = pki.enrol_dealer(DEALER)
    install(dealer)
    # Another dealer enrolled beside it: its identity must not be the one that signs.
    install(pki.enrol_dealer("honda-cebu"), "honda-cebu")

    receipt = get_ledger().record_origin(origin())

    (tx,) = [tx for tx in fabric.committed() if tx.tx_id == receipt.tx_id]
    assert tx.creator_msp == DEALER_MSP and tx.creator_certificate == dealer.certificate
    # Endorsed by 3 of the 4 organisations with a peer (the channel's endorsement policy); the
    # dealers endorse nothing.
    endorsers = protocol.read_prepared(tx.envelope).endorsers
    assert receipt.proof["endorsers"] == endorsers
    assert len(endorsers) == 3 and set(endorsers) <= set(ORGANISATIONS)
    recorded = world_state_origin(fabric)
    assert (recorded["dealer"], recorded["msp_id"], recorded["tx_id"]) == (
        DEALER,
        DEALER_MSP,
        receipt.tx_id,
    )
    assert get_ledger().get_change("origin-1")["dealer"] == DEALER


def test_a_replayed_origin_points_at_the_original_transaction(fabric, pki, identities):
    install(pki.enrol_dealer(DEALER))
    first = get_ledger().record_origin(origin())

    again = get_ledger().record_origin(origin())

    assert again.replayed and again.tx_id == first.tx_id
    assert len([tx for tx in fabric.committed() if tx.creator_msp == DEALER_MSP]) == 1


def test_a_dealers_identity_without_the_attribute_is_refused_by_the_chaincode(
    fabric, pki, identities
):
    install(pki.enrol_dealer(DEALER, attributes={"hf.Affiliation": "dealers"}))

    with pytest.raises(LedgerRejected, match=r"names no dealer \(attribute talaan.dealer\)"):
        get_ledger().record_origin(origin())

    assert world_state_origin(fabric) is None and fabric.committed() == []


def test_another_organisations_identity_with_the_attribute_is_refused(fabric, pki, identities):
    # Issued by HPG's own CA, the attribute copied in: HPG is not a dealer.
    install(pki.issue("client.hpgmsp", "HPGMSP", {"talaan.dealer": DEALER}))

    with pytest.raises(LedgerRejected, match="Only an accredited dealer records"):
        get_ledger().record_origin(origin(msp="HPGMSP"))

    assert world_state_origin(fabric) is None and fabric.committed() == []


def self_issued(pki) -> Identity:
    key = ec.generate_private_key(ec.SECP256R1())
    forged = certificate_with_attributes(
        msp_id=DEALER_MSP, common_name=DEALER, attributes={"talaan.dealer": DEALER}, key=key
    )
    return Identity(msp_id=DEALER_MSP, certificate=forged, private_key=key)


def from_another_organisations_ca(pki) -> Identity:
    # The CA of the organisations with a peer, naming DealerMSP: not the dealers' CA.
    return pki.issue(DEALER, DEALER_MSP, {"talaan.dealer": DEALER})


@pytest.mark.parametrize("forge", [self_issued, from_another_organisations_ca])
def test_a_certificate_the_dealers_ca_did_not_issue_is_refused_by_the_peer(
    fabric, pki, identities, forge
):
    install(forge(pki))

    with pytest.raises(LedgerUnavailable, match="the peer refused the signing identity") as err:
        get_ledger().record_origin(origin())

    # The peer's words, as Fabric 2.5's gateway reports a creator its MSP does not vouch for.
    assert "access denied: channel [clearance] creator org [DealerMSP]" in str(err.value)
    # Refused once, not retried: no certificate becomes valid by asking again.
    assert fabric.calls.count("Endorse") == 1 and "Submit" not in fabric.calls
    assert world_state_origin(fabric) is None


def test_a_dealer_without_an_identity_directory_sends_nothing(fabric, pki, identities):
    install(pki.enrol_dealer("honda-cebu"), "honda-cebu")

    with pytest.raises(LedgerUnavailable) as err:
        get_ledger().record_origin(origin())

    missing = identities / DEALER_MSP / DEALER / "cert.pem"
    assert f"No client identity for {DEALER} of {DEALER_MSP}" in str(err.value)
    assert str(missing) in str(err.value)
    assert fabric.calls == [] and fabric.committed() == []


def test_an_origin_recorded_by_the_dealers_officer_is_confirmed_by_the_listener(
    fabric, pki, identities, world
):
    from tests.registry.test_origins import dealer_with_officer, record

    dealer, officer = dealer_with_officer(code=DEALER)
    install(pki.enrol_dealer(DEALER))
    row = record(dealer, officer)

    (tx,) = [tx for tx in fabric.committed() if tx.tx_id == row.ledger_tx_id]
    assert tx.event is not None and tx.event.event_name == ORIGIN_EVENT
    assert json.loads(tx.event.payload)["change_id"] == str(row.ledger_change_id)
    assert str(row.ledger_change_id) in get_ledger().change_ids(idle_seconds=0.5)
    outcomes = list(follow(get_ledger(), handle=keepers.confirm, idle_seconds=0.5))
    assert [(o.tx_id, o.confirmed) for o in outcomes] == [(row.ledger_tx_id, True)]
    row.refresh_from_db()
    assert row.ledger_confirmed_at is not None
    assert ListenerCheckpoint.objects.get().block_number == row.ledger_block + 1
    output, error = reconcile()
    assert error is None, output
    # Reconcile holds the row against the ledger's origin: a changed row is named.
    type(row).objects.filter(pk=row.pk).update(csr_number="CSR-FORGED")
    output, error = reconcile()
    assert error is not None and f"origin record {row.vin}" in output


def test_an_origin_another_client_wrote_is_reported_ledger_only_not_a_crash(
    fabric, pki, identities
):
    install(pki.enrol_dealer(DEALER))
    # A change id this app never writes (ours are UUIDs): no row can hold it.
    receipt = get_ledger().record_origin(origin(change_id="origin-7"))

    outcomes = list(follow(get_ledger(), handle=keepers.confirm, idle_seconds=0.5))

    assert [o.tx_id for o in outcomes] == [receipt.tx_id]
    assert outcomes[0].row_missing and not outcomes[0].pending
    assert "not one this app writes" in outcomes[0].note


@pytest.mark.parametrize("code", ["../LTOMSP", "..", "a/b"])
def test_a_dealer_code_cannot_reach_another_identity_folder(fabric, pki, identities, code):
    with pytest.raises(LedgerUnavailable, match="cannot name a client identity of DealerMSP"):
        get_ledger().record_origin(origin(dealer=code))

    assert fabric.calls == []
