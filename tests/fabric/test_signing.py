"""The client's signatures and transaction ids are what a Fabric peer insists on."""

from __future__ import annotations

import grpc
import pytest
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)
from fabric_protos.common import common_pb2
from fabric_protos.gateway import gateway_pb2, gateway_pb2_grpc
from fabric_protos.peer import proposal_pb2

from ledger.fabric import protocol
from ledger.fabric.identity import P256_ORDER, is_low_s, low_s


def test_every_signature_has_a_low_s(pki):
    identity = pki.clients["LTOMSP"]

    signatures = [identity.sign(f"message {n}".encode()) for n in range(64)]

    assert all(is_low_s(signature) for signature in signatures)


def test_a_high_s_is_mirrored_into_the_lower_half():
    r, s = 12345, P256_ORDER - 1

    assert decode_dss_signature(low_s(encode_dss_signature(r, s))) == (r, 1)


def test_the_transaction_id_is_the_sha256_of_nonce_and_creator(pki):
    identity = pki.clients["HPGMSP"]

    proposal = protocol.build_proposal(
        creator=identity.creator,
        sign=identity.sign,
        channel="clearance",
        chaincode="talaan",
        function="talaan:GetChange",
        args=["x"],
    )

    assert len(proposal.tx_id) == 64
    header = common_pb2.Header.FromString(
        proposal_pb2.Proposal.FromString(proposal.signed.proposal_bytes).header
    )
    signature_header = common_pb2.SignatureHeader.FromString(header.signature_header)
    assert proposal.tx_id == protocol.transaction_id(
        signature_header.nonce, signature_header.creator
    )


def _evaluate(peer, identity, signature_of):
    proposal = protocol.build_proposal(
        creator=identity.creator,
        sign=signature_of,
        channel="clearance",
        chaincode="talaan",
        function="talaan:GetChange",
        args=["probe"],
    )
    with grpc.insecure_channel(peer.address) as channel:
        return gateway_pb2_grpc.GatewayStub(channel).Evaluate(
            gateway_pb2.EvaluateRequest(
                transaction_id=proposal.tx_id,
                channel_id="clearance",
                proposed_transaction=proposal.signed,
            ),
            timeout=5,
        )


def test_the_peer_refuses_a_high_s_signature_as_access_denied(peer, pki):
    identity = pki.clients["LTOMSP"]

    def high_s(message: bytes) -> bytes:
        r, s = decode_dss_signature(identity.sign(message))
        return encode_dss_signature(r, P256_ORDER - s)

    with pytest.raises(grpc.RpcError) as refusal:
        _evaluate(peer, identity, high_s)

    # A Fabric 2.5 gateway's words: its peer's validation failed, so no retry on another peer.
    assert refusal.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert refusal.value.details() == (
        "evaluate call to endorser returned error: error validating proposal: "
        "access denied: channel [clearance] creator org [LTOMSP]"
    )


def test_a_chaincode_error_comes_back_in_the_status_details_trailer(peer, pki):
    identity = pki.clients["LTOMSP"]

    with pytest.raises(grpc.RpcError) as refusal:
        _evaluate(peer, identity, identity.sign)

    trailer = dict(refusal.value.trailing_metadata())[protocol.STATUS_DETAILS_KEY]
    details = protocol.error_details(trailer)
    # The chaincode's sentence, then its stable reason and parameters, which the app words in
    # the reader's language (kernel/refusals.py).
    assert details and details[0].message.endswith(
        'Change probe is not on the ledger. [NOT_ON_LEDGER {"what": "probe"}]'
    )
