"""The backend talks TLS to the peer, trusting the organisations' CA certificate."""

from __future__ import annotations

from cryptography.hazmat.primitives import serialization

from ledger import adapter, get_ledger
from tests.conftest import claim_and_approve, sent_for_clearance
from tests.fabric.peer import TestPeer


def test_a_decision_goes_through_over_tls_checked_against_the_ca(
    world, fabric, pki, chaincode_server, settings, tmp_path
):
    tls_peer = TestPeer(
        pki=pki, chaincode_address=chaincode_server, tls=pki.tls_server("peer0.lto.talaan.test")
    )
    ca_file = tmp_path / "ca.pem"
    ca_file.write_bytes(pki.ca_cert.public_bytes(serialization.Encoding.PEM))
    settings.FABRIC_GATEWAY_ENDPOINT = tls_peer.address
    settings.FABRIC_TLS_CA_FILE = str(ca_file)
    settings.FABRIC_TLS_SERVER_NAME = "peer0.lto.talaan.test"
    adapter._build.cache_clear()
    try:
        _, requests = sent_for_clearance(world)

        change = claim_and_approve(world, requests["HPG"])

        assert change.ledger_tx_id in {tx.tx_id for tx in tls_peer.committed()}
        assert get_ledger().health().ok
    finally:
        get_ledger().gateway.close()
        tls_peer.stop()


def test_a_peer_whose_certificate_the_ca_did_not_issue_is_not_trusted(
    world, fabric, pki, chaincode_server, settings, tmp_path
):
    other_ca = type(pki).create(organisations=[])
    ca_file = tmp_path / "other-ca.pem"
    ca_file.write_bytes(other_ca.ca_cert.public_bytes(serialization.Encoding.PEM))
    tls_peer = TestPeer(
        pki=pki,
        chaincode_address=chaincode_server,
        tls=pki.tls_server("peer0.lto.talaan.test"),
    )
    settings.FABRIC_GATEWAY_ENDPOINT = tls_peer.address
    settings.FABRIC_TLS_CA_FILE = str(ca_file)
    settings.FABRIC_TLS_SERVER_NAME = "peer0.lto.talaan.test"
    settings.FABRIC_RETRIES = 0
    settings.FABRIC_DEADLINE_SECONDS = 1
    adapter._build.cache_clear()
    try:
        assert not get_ledger().health().ok
    finally:
        get_ledger().gateway.close()
        tls_peer.stop()
