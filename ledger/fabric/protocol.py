"""Building and reading the Fabric messages the Gateway service exchanges.

Everything here is plain protobuf work with the official ``hyperledger-fabric-protos``
messages; the network calls live in ``ledger.fabric.gateway``.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from fabric_protos.common import common_pb2
from fabric_protos.gateway import gateway_pb2
from fabric_protos.msp.identities_pb2 import SerializedIdentity
from fabric_protos.orderer import ab_pb2
from fabric_protos.peer import (
    chaincode_pb2,
    proposal_pb2,
    proposal_response_pb2,
    transaction_pb2,
)
from google.protobuf import any_pb2, descriptor_pb2, descriptor_pool, message_factory
from google.protobuf.timestamp_pb2 import Timestamp

NONCE_BYTES = 24

# Signs bytes with the creator's key (see ledger.fabric.identity.Identity.sign).
Signer = Callable[[bytes], bytes]


def transaction_id(nonce: bytes, creator: bytes) -> str:
    """Fabric's transaction id: hex SHA-256 of the nonce followed by the serialized creator."""
    return hashlib.sha256(nonce + creator).hexdigest()


@dataclass(frozen=True)
class Proposal:
    """A signed proposal ready for Evaluate or Endorse, with what identifies it."""

    tx_id: str
    timestamp: datetime
    signed: proposal_pb2.SignedProposal


def build_proposal(
    *,
    creator: bytes,
    sign: Signer,
    channel: str,
    chaincode: str,
    function: str,
    args: list[str],
    now: datetime | None = None,
) -> Proposal:
    """A chaincode invocation proposal for ``function(*args)``, signed by the creator."""
    nonce = os.urandom(NONCE_BYTES)
    tx_id = transaction_id(nonce, creator)
    moment = now or datetime.now(tz=UTC)
    stamp = Timestamp()
    stamp.FromDatetime(moment)
    chaincode_id = chaincode_pb2.ChaincodeID(name=chaincode)
    channel_header = common_pb2.ChannelHeader(
        type=common_pb2.HeaderType.ENDORSER_TRANSACTION,
        channel_id=channel,
        tx_id=tx_id,
        timestamp=stamp,
        epoch=0,
        extension=proposal_pb2.ChaincodeHeaderExtension(
            chaincode_id=chaincode_id
        ).SerializeToString(),
    )
    signature_header = common_pb2.SignatureHeader(creator=creator, nonce=nonce)
    header = common_pb2.Header(
        channel_header=channel_header.SerializeToString(),
        signature_header=signature_header.SerializeToString(),
    )
    invocation = chaincode_pb2.ChaincodeInvocationSpec(
        chaincode_spec=chaincode_pb2.ChaincodeSpec(
            chaincode_id=chaincode_id,
            input=chaincode_pb2.ChaincodeInput(
                args=[function.encode(), *(arg.encode() for arg in args)]
            ),
        )
    )
    payload = proposal_pb2.ChaincodeProposalPayload(input=invocation.SerializeToString())
    proposal_bytes = proposal_pb2.Proposal(
        header=header.SerializeToString(), payload=payload.SerializeToString()
    ).SerializeToString()
    signed = proposal_pb2.SignedProposal(
        proposal_bytes=proposal_bytes, signature=sign(proposal_bytes)
    )
    return Proposal(tx_id=tx_id, timestamp=moment, signed=signed)


@dataclass(frozen=True)
class Endorsed:
    """What a prepared transaction says: the chaincode's answer and who endorsed it."""

    tx_id: str
    status: int
    message: str
    payload: bytes
    endorsers: list[str]


def read_prepared(envelope: common_pb2.Envelope) -> Endorsed:
    """Read the chaincode response and the endorsing MSPs out of a prepared transaction."""
    payload = common_pb2.Payload.FromString(envelope.payload)
    channel_header = common_pb2.ChannelHeader.FromString(payload.header.channel_header)
    transaction = transaction_pb2.Transaction.FromString(payload.data)
    action_payload = transaction_pb2.ChaincodeActionPayload.FromString(
        transaction.actions[0].payload
    )
    response_payload = proposal_response_pb2.ProposalResponsePayload.FromString(
        action_payload.action.proposal_response_payload
    )
    action = proposal_pb2.ChaincodeAction.FromString(response_payload.extension)
    endorsers = sorted(
        {
            SerializedIdentity.FromString(endorsement.endorser).mspid
            for endorsement in action_payload.action.endorsements
        }
    )
    return Endorsed(
        tx_id=channel_header.tx_id,
        status=action.response.status,
        message=action.response.message,
        payload=action.response.payload,
        endorsers=endorsers,
    )


def read_processed(payload: bytes) -> Endorsed:
    """Read a committed transaction, as qscc GetTransactionByID returns it."""
    processed = transaction_pb2.ProcessedTransaction.FromString(payload)
    return read_prepared(processed.transactionEnvelope)


def commit_status_request(
    *, identity: bytes, sign: Signer, channel: str, tx_id: str
) -> gateway_pb2.SignedCommitStatusRequest:
    request = gateway_pb2.CommitStatusRequest(
        transaction_id=tx_id, channel_id=channel, identity=identity
    ).SerializeToString()
    return gateway_pb2.SignedCommitStatusRequest(request=request, signature=sign(request))


def chaincode_events_request(
    *,
    identity: bytes,
    sign: Signer,
    channel: str,
    chaincode: str,
    start_block: int | None,
    after_tx_id: str = "",
) -> gateway_pb2.SignedChaincodeEventsRequest:
    """Events from ``start_block`` (or from the next commit), skipping up to ``after_tx_id``."""
    if start_block is None:
        position = ab_pb2.SeekPosition(next_commit=ab_pb2.SeekNextCommit())
    else:
        position = ab_pb2.SeekPosition(specified=ab_pb2.SeekSpecified(number=start_block))
    request = gateway_pb2.ChaincodeEventsRequest(
        channel_id=channel,
        chaincode_id=chaincode,
        identity=identity,
        start_position=position,
        after_transaction_id=after_tx_id,
    ).SerializeToString()
    return gateway_pb2.SignedChaincodeEventsRequest(request=request, signature=sign(request))


def _status_class() -> type[Any]:
    """google.rpc.Status, built in a private descriptor pool (its fields are made at run time).

    The ``googleapis-common-protos`` package is not a dependency; a private pool also cannot
    clash with it if it is ever installed.
    """
    pool = descriptor_pool.DescriptorPool()
    pool.AddSerializedFile(any_pb2.DESCRIPTOR.serialized_pb)
    file = descriptor_pb2.FileDescriptorProto(
        name="talaan/google_rpc_status.proto",
        package="google.rpc",
        syntax="proto3",
        dependency=["google/protobuf/any.proto"],
    )
    message = file.message_type.add(name="Status")
    field = descriptor_pb2.FieldDescriptorProto
    message.field.add(name="code", number=1, type=field.TYPE_INT32, label=field.LABEL_OPTIONAL)
    message.field.add(name="message", number=2, type=field.TYPE_STRING, label=field.LABEL_OPTIONAL)
    message.field.add(
        name="details",
        number=3,
        type=field.TYPE_MESSAGE,
        label=field.LABEL_REPEATED,
        type_name=".google.protobuf.Any",
    )
    pool.Add(file)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName("google.rpc.Status"))


RpcStatus = _status_class()
STATUS_DETAILS_KEY = "grpc-status-details-bin"


def encode_status(code: int, message: str, details: list[gateway_pb2.ErrorDetail]) -> bytes:
    """The ``grpc-status-details-bin`` trailer value for ``details`` (used by test peers)."""
    status = RpcStatus(code=code, message=message)
    for detail in details:
        packed = status.details.add()
        packed.type_url = f"type.googleapis.com/{detail.DESCRIPTOR.full_name}"
        packed.value = detail.SerializeToString()
    return status.SerializeToString()


def error_details(trailer: bytes | None) -> list[gateway_pb2.ErrorDetail]:
    """The per-peer ErrorDetail messages a gateway puts in the status-details trailer."""
    if not trailer:
        return []
    try:
        status = RpcStatus.FromString(trailer)
    except Exception:  # a malformed trailer must not hide the call's own error
        return []
    wanted = gateway_pb2.ErrorDetail.DESCRIPTOR.full_name
    details = []
    for packed in status.details:
        if packed.type_url.rsplit("/", 1)[-1] == wanted:
            details.append(gateway_pb2.ErrorDetail.FromString(packed.value))
    return details
