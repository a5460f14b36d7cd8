"""A stand-in for a Fabric peer's Gateway service, for the test suite.

No Fabric peer can be installed from the package registries here, so the Fabric backend is
tested against this server instead. It speaks the real Gateway gRPC service with the official
``hyperledger-fabric-protos`` messages and does what a peer (with its orderer) does with them:

- checks every signature (ECDSA P-256, DER, low S) against the submitting organisation's
  certificate, which must be issued by that MSP's CA (the test CA to the MSP id it claims, or
  for DealerMSP and LenderMSP their kind's own CA, which enrols each dealer or lender with its
  ``talaan.dealer`` or ``talaan.lender`` attribute), refusing any other creator with a Fabric
  2.5 gateway's words, and derives and checks each transaction id (hex SHA-256 of nonce +
  serialized creator);
- endorses by running the chaincode the way a peer does: it dials the chaincode server
  (chaincode-as-a-service) on ``protos.Chaincode/Connect``, answers REGISTER with REGISTERED
  and READY, sends TRANSACTION messages with the ChaincodeInput and the SignedProposal, serves
  GET_STATE / PUT_STATE / DEL_STATE / GET_HISTORY_FOR_KEY from an in-memory versioned state,
  builds the read/write set and takes the event from the COMPLETED message;
- signs endorsements with the peers the chaincode's endorsement policy asks for (read from
  fabric-network/configtx.yaml: 3 of the 4 organisations with a peer) and, at commit, checks
  the envelope's signature, the endorsements against that policy and MVCC;
- orders each transaction into its own numbered block, answers CommitStatus with the block
  number and validation code, and streams the chaincode events per block from a start block.

It has outages as a Fabric 2.5 gateway words them: ``fail_next`` with a ``PeerFault`` below
(the gRPC code, message and per-peer details a real gateway sends), organisations' peers down
(``offline``: endorsements come from the others, too few is "connection refused"), and the
chaincode server out of reach (``chaincode_reachable``). It answers qscc GetTransactionByID
with the committed envelope, as a peer's query system chaincode does.

It can also be made to misbehave: stopped (unreachable), slow (``delay_seconds``), failing a
call with a gRPC code (``fail_next``), invalidating the next commit with an MVCC conflict,
failing every endorsement that names an argument (``unavailable_for``), or holding each
endorsement until several are in flight at once (``endorse_barrier``).
"""

from __future__ import annotations

import hashlib
import queue
import threading
import time
from collections.abc import Iterator
from concurrent import futures
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import grpc
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from fabric_protos.common import common_pb2
from fabric_protos.gateway import gateway_pb2, gateway_pb2_grpc
from fabric_protos.ledger.queryresult import kv_query_result_pb2
from fabric_protos.ledger.rwset import rwset_pb2
from fabric_protos.ledger.rwset.kvrwset import kv_rwset_pb2
from fabric_protos.msp.identities_pb2 import SerializedIdentity
from fabric_protos.peer import (
    chaincode_event_pb2,
    chaincode_pb2,
    chaincode_shim_pb2,
    chaincode_shim_pb2_grpc,
    proposal_pb2,
    proposal_response_pb2,
    transaction_pb2,
)
from fabric_protos.peer.proposal_response_pb2 import Response
from google.protobuf.timestamp_pb2 import Timestamp

from chaincode.rules import MEMBER_ATTRIBUTES, OrgKind
from ledger.enrolment import attribute_extension
from ledger.fabric import protocol
from ledger.fabric.identity import Identity, is_low_s
from tests.chaincode.channel_policy import chaincode_endorsement

Msg = chaincode_shim_pb2.ChaincodeMessage
Code = transaction_pb2.TxValidationCode
# The organisations with a peer (the endorsers), and the channel's: the dealers' and the
# lenders' organisations run no peer (fabric-network/configtx.yaml).
ORGANISATIONS = ["LTOMSP", "HPGMSP", "InsuranceMSP", "EmissionMSP"]
DEALER_MSP = "DealerMSP"
LENDER_MSP = "LenderMSP"
# The kinds of many members: one MSP each, with a CA of its own that enrols every member with
# the kind's attribute naming it (network.sh enrolDealer / enrolLender).
MEMBER_MSPS = {OrgKind.DEALER: DEALER_MSP, OrgKind.LENDER: LENDER_MSP}
# The chaincode's endorsement policy, /Channel/Application/Endorsement of configtx.yaml: the
# peers of ENDORSEMENT.threshold distinct organisations among ENDORSEMENT.organisations.
ENDORSEMENT = chaincode_endorsement()
ENDORSING = [msp for msp in ORGANISATIONS if msp in ENDORSEMENT.organisations]
# Where each organisation's peer listens in fabric-network/ (for the gateway's error details).
PEER_ADDRESSES = {
    "LTOMSP": ("peer0.lto.talaan.example:7051", "172.18.0.7:7051"),
    "HPGMSP": ("peer0.hpg.talaan.example:8051", "172.18.0.8:8051"),
    "InsuranceMSP": ("peer0.insurance.talaan.example:9051", "172.18.0.9:9051"),
    "EmissionMSP": ("peer0.emission.talaan.example:10051", "172.18.0.10:10051"),
}
CHAINCODE_PACKAGE = "talaan_1.0:8b1f6e2ac3d94e0b7f25a1c6d0e4b93f7a2c5d8e1f4b7a0c3d6e9f2a5b8c1d4e"


@dataclass(frozen=True)
class PeerFault:
    """A failure as a Fabric 2.5 gateway reports it: a gRPC code, its message and, in the
    status details, what each endorsing peer said (``{tx_id}`` is the proposal's)."""

    code: grpc.StatusCode
    message: str
    details: tuple[tuple[str, str], ...] = ()


def _dial_refused(msp_id: str) -> str:
    # What a peer's gRPC client says when the endorsing peer's host refuses the connection.
    return (
        'rpc error: code = Unavailable desc = connection error: desc = "transport: Error while '
        f'dialing: dial tcp {PEER_ADDRESSES[msp_id][1]}: connect: connection refused"'
    )


def _chaincode_unreachable() -> str:
    # core/endorser -> core/chaincode (Launch) -> core/chaincode/extcc (Stream, createConnection).
    return (
        "error in simulation: failed to execute transaction {tx_id}: could not launch chaincode "
        f"{CHAINCODE_PACKAGE}: error cannot create connection for {CHAINCODE_PACKAGE}: error "
        "creating grpc connection to chaincode:9999: context deadline exceeded"
    )


# For a few seconds after a peer restarts, before gossip has found it again.
NO_ENDORSEMENT_PLAN = PeerFault(
    grpc.StatusCode.FAILED_PRECONDITION,
    "no combination of peers can be derived which satisfy the endorsement policy: "
    "no peer combination can satisfy the endorsement policy",
)
# Two organisations' peers down while discovery still lists them.
ENDORSERS_UNREACHABLE = PeerFault(
    grpc.StatusCode.ABORTED,
    "failed to collect enough transaction endorsements, see attached details for more info",
    (
        ("InsuranceMSP", _dial_refused("InsuranceMSP")),
        ("EmissionMSP", _dial_refused("EmissionMSP")),
    ),
)
# The chaincode-as-a-service server down.
CHAINCODE_UNREACHABLE = PeerFault(
    grpc.StatusCode.ABORTED,
    "failed to endorse transaction, see attached details for more info",
    (("LTOMSP", _chaincode_unreachable()),),
)


class CreatorRefused(PermissionError):
    """A creator its MSP does not vouch for: ``msp_id`` is the organisation it claims, or ""
    when the claim itself cannot be read (an unknown MSP, a malformed certificate)."""

    def __init__(self, msp_id: str, reason: str) -> None:
        super().__init__(f"access denied: {reason}")
        self.msp_id = msp_id


# A test PKI: one CA for the four organisations with a peer, each with a client identity and a
# peer identity, and the dealers' and lenders' CAs, which enrol each member with its attribute.


def _name(common_name: str, organisation: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def certificate_authority(
    common_name: str, organisation: str
) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    """A self-signed root CA (as cryptogen makes one per organisation)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = _name(common_name, organisation)
    now = datetime.now(tz=UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return key, cert


def issue_identity(
    ca: tuple[ec.EllipticCurvePrivateKey, x509.Certificate],
    common_name: str,
    msp_id: str,
    attributes: dict[str, str] | None = None,
) -> Identity:
    """An identity of ``msp_id`` issued by ``ca``, with Fabric CA attributes if given."""
    ca_key, ca_cert = ca
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(tz=UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name, msp_id))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
    )
    if attributes is not None:
        builder = builder.add_extension(attribute_extension(attributes), critical=False)
    cert = builder.sign(ca_key, hashes.SHA256())
    pem = cert.public_bytes(serialization.Encoding.PEM)
    return Identity(msp_id=msp_id, certificate=pem, private_key=key)


@dataclass
class TestPKI:
    __test__ = False  # not a test class, despite the name
    ca_key: ec.EllipticCurvePrivateKey
    ca_cert: x509.Certificate
    # Each many-member MSP's only root (ca-dealer, ca-lender in fabric-network/), by MSP id.
    member_cas: dict[str, tuple[ec.EllipticCurvePrivateKey, x509.Certificate]]
    clients: dict[str, Identity] = field(default_factory=dict)
    peers: dict[str, Identity] = field(default_factory=dict)

    @classmethod
    def create(cls, organisations: list[str] = ORGANISATIONS) -> TestPKI:
        ca_key, ca_cert = certificate_authority("ca.talaan.test", "Talaan Test CA")
        member_cas = {
            msp_id: certificate_authority(
                f"ca.{kind.lower()}.talaan.test", f"Talaan Test {kind.title()}s CA"
            )
            for kind, msp_id in MEMBER_MSPS.items()
        }
        pki = cls(ca_key=ca_key, ca_cert=ca_cert, member_cas=member_cas)
        for msp_id in organisations:
            pki.clients[msp_id] = pki.issue(f"client.{msp_id.lower()}", msp_id)
            pki.peers[msp_id] = pki.issue(f"peer0.{msp_id.lower()}", msp_id)
        return pki

    def issue(
        self, common_name: str, msp_id: str, attributes: dict[str, str] | None = None
    ) -> Identity:
        """An identity from the CA of the four organisations with a peer."""
        return issue_identity((self.ca_key, self.ca_cert), common_name, msp_id, attributes)

    def enrol_member(
        self, kind: str, code: str, attributes: dict[str, str] | None = None
    ) -> Identity:
        """A dealer's or lender's identity as its kind's CA enrols it (network.sh enrolDealer,
        enrolLender: ``--id.attrs talaan.<kind>=<code>:ecert``); ``attributes`` replaces the
        attribute, to make a forgery or an identity that names no member."""
        chosen = {MEMBER_ATTRIBUTES[kind]: code} if attributes is None else attributes
        msp_id = MEMBER_MSPS[kind]
        return issue_identity(self.member_cas[msp_id], code, msp_id, chosen)

    def enrol_dealer(self, code: str, attributes: dict[str, str] | None = None) -> Identity:
        return self.enrol_member(OrgKind.DEALER, code, attributes)

    def enrol_lender(self, code: str, attributes: dict[str, str] | None = None) -> Identity:
        return self.enrol_member(OrgKind.LENDER, code, attributes)

    def ca_of(self, msp_id: str) -> x509.Certificate | None:
        """The root CA an MSP of the channel trusts, or None for an MSP not on the channel."""
        if msp_id in self.member_cas:
            return self.member_cas[msp_id][1]
        return self.ca_cert if msp_id in ORGANISATIONS else None

    def tls_server(self, hostname: str) -> grpc.ServerCredentials:
        """TLS credentials for a peer answering as ``hostname``, issued by the test CA."""
        key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.now(tz=UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(_name(hostname, "Talaan Test Peers"))
            .issuer_name(self.ca_cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=30))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(hostname)]), critical=False)
            .sign(self.ca_key, hashes.SHA256())
        )
        key_pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        cert_pem = cert.public_bytes(serialization.Encoding.PEM)
        return grpc.ssl_server_credentials([(key_pem, cert_pem)])

    def write_identities(self, directory) -> None:  # type: ignore[no-untyped-def]
        """Lay the client identities out as FABRIC_IDENTITIES_DIR expects them."""
        for msp_id, identity in self.clients.items():
            write_identity(directory / msp_id, identity)

    def check_signature(self, creator_bytes: bytes, message: bytes, signature: bytes) -> str:
        """Return the creator's MSP id if it signed ``message``; raise CreatorRefused if not.

        As on a peer, the certificate must chain to the root CA of the MSP it claims (a
        dealer's to the dealers' CA, a lender's to the lenders'), and a high-S signature is
        refused.
        """
        creator = SerializedIdentity.FromString(creator_bytes)
        root = self.ca_of(creator.mspid)
        try:
            cert = x509.load_pem_x509_certificate(creator.id_bytes)
        except ValueError as exc:
            raise CreatorRefused("", "creator certificate is malformed") from exc
        if root is None:
            raise CreatorRefused("", f"creator org {creator.mspid} is not on the channel")
        try:
            cert.verify_directly_issued_by(root)
        except (ValueError, TypeError, InvalidSignature) as exc:
            raise CreatorRefused(creator.mspid, "creator certificate is not valid") from exc
        # The four organisations share the test CA: its O= names the MSP it was issued to.
        organisation = cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
        if not organisation or organisation[0].value != creator.mspid:
            raise CreatorRefused(creator.mspid, "creator is not a member of its MSP")
        try:
            if not is_low_s(signature):
                raise CreatorRefused(creator.mspid, "signature is not low-S")
            public_key = cert.public_key()
            assert isinstance(public_key, ec.EllipticCurvePublicKey)
            public_key.verify(signature, message, ec.ECDSA(hashes.SHA256()))
        except (ValueError, InvalidSignature) as exc:
            raise CreatorRefused(creator.mspid, "signature does not verify") from exc
        return creator.mspid


def write_identity(folder, identity: Identity) -> None:  # type: ignore[no-untyped-def]
    """Write ``cert.pem`` and ``key.pem`` as FABRIC_IDENTITIES_DIR holds an identity."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "cert.pem").write_bytes(identity.certificate)
    (folder / "key.pem").write_bytes(
        identity.private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )


# The peer's end of the chaincode shim protocol.


class ChaincodeFailed(Exception):
    pass


class ChaincodeConnection:
    """A stream to a chaincode server: the peer is the gRPC client of Chaincode/Connect."""

    def __init__(self, address: str, timeout: float = 10.0) -> None:
        self.timeout = timeout
        self.channel = grpc.insecure_channel(address)
        self._outgoing: queue.Queue[Msg | None] = queue.Queue()
        self._incoming: queue.Queue[Msg | BaseException] = queue.Queue()
        stub = chaincode_shim_pb2_grpc.ChaincodeStub(self.channel)
        self._call = stub.Connect(iter(self._outgoing.get, None))
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        # One transaction at a time on the stream keeps the test peer simple.
        self.lock = threading.Lock()
        register = self._receive()
        if register.type != Msg.REGISTER:
            raise ChaincodeFailed(f"expected REGISTER, got {Msg.Type.Name(register.type)}")
        self.chaincode_id = chaincode_pb2.ChaincodeID.FromString(register.payload).name
        self._send(Msg(type=Msg.REGISTERED))
        self._send(Msg(type=Msg.READY))

    def _read(self) -> None:
        try:
            for message in self._call:
                self._incoming.put(message)
        except grpc.RpcError as exc:
            self._incoming.put(exc)

    def _send(self, message: Msg) -> None:
        self._outgoing.put(message)

    def _receive(self) -> Msg:
        try:
            item = self._incoming.get(timeout=self.timeout)
        except queue.Empty as exc:
            raise ChaincodeFailed("the chaincode did not answer in time") from exc
        if isinstance(item, BaseException):
            raise ChaincodeFailed(f"the chaincode stream broke: {item}") from item
        return item

    def close(self) -> None:
        self._outgoing.put(None)
        self._call.cancel()
        self.channel.close()

    def execute(
        self,
        *,
        channel_id: str,
        tx_id: str,
        chaincode_input: chaincode_pb2.ChaincodeInput,
        signed_proposal: proposal_pb2.SignedProposal,
        simulation: Simulation,
    ) -> None:
        """Run one transaction, serving the chaincode's state calls from ``simulation``."""
        with self.lock:
            self._send(
                Msg(
                    type=Msg.TRANSACTION,
                    payload=chaincode_input.SerializeToString(),
                    txid=tx_id,
                    channel_id=channel_id,
                    proposal=signed_proposal,
                )
            )
            while True:
                message = self._receive()
                if message.type == Msg.KEEPALIVE:
                    continue
                if message.txid != tx_id:
                    raise ChaincodeFailed(f"message for another transaction: {message.txid}")
                if message.type == Msg.COMPLETED:
                    simulation.response = Response.FromString(message.payload)
                    if message.HasField("chaincode_event"):
                        event = chaincode_event_pb2.ChaincodeEvent()
                        event.CopyFrom(message.chaincode_event)
                        # As a peer does: the event is stamped with the chaincode and tx ids.
                        event.chaincode_id = simulation.namespace
                        event.tx_id = tx_id
                        simulation.event = event
                    return
                if message.type == Msg.ERROR:
                    raise ChaincodeFailed(message.payload.decode(errors="replace"))
                self._send(self._serve(message, simulation))

    def _serve(self, message: Msg, simulation: Simulation) -> Msg:
        def reply(payload: bytes = b"") -> Msg:
            return Msg(
                type=Msg.RESPONSE,
                payload=payload,
                txid=message.txid,
                channel_id=message.channel_id,
            )

        if message.type == Msg.GET_STATE:
            request = chaincode_shim_pb2.GetState.FromString(message.payload)
            return reply(simulation.get(request.key))
        if message.type == Msg.PUT_STATE:
            request = chaincode_shim_pb2.PutState.FromString(message.payload)
            simulation.put(request.key, request.value)
            return reply()
        if message.type == Msg.DEL_STATE:
            request = chaincode_shim_pb2.DelState.FromString(message.payload)
            simulation.put(request.key, None)
            return reply()
        if message.type == Msg.GET_HISTORY_FOR_KEY:
            request = chaincode_shim_pb2.GetHistoryForKey.FromString(message.payload)
            results = [
                chaincode_shim_pb2.QueryResultBytes(resultBytes=item.SerializeToString())
                for item in simulation.history(request.key)
            ]
            response = chaincode_shim_pb2.QueryResponse(
                results=results, has_more=False, id=f"history-{message.txid[:8]}"
            )
            return reply(response.SerializeToString())
        if message.type == Msg.QUERY_STATE_CLOSE:
            request = chaincode_shim_pb2.QueryStateClose.FromString(message.payload)
            return reply(chaincode_shim_pb2.QueryResponse(id=request.id).SerializeToString())
        return Msg(
            type=Msg.ERROR,
            payload=f"the test peer does not serve {Msg.Type.Name(message.type)}".encode(),
            txid=message.txid,
            channel_id=message.channel_id,
        )


# The ledger: versioned world state, key history, blocks.


@dataclass
class CommittedTx:
    tx_id: str
    number: int
    code: int
    creator_msp: str
    writes: dict[str, bytes | None]
    event: chaincode_event_pb2.ChaincodeEvent | None
    envelope: common_pb2.Envelope | None = None
    # The serialized identity (msp.SerializedIdentity) that signed the transaction.
    creator: bytes = b""

    @property
    def creator_certificate(self) -> bytes:
        return SerializedIdentity.FromString(self.creator).id_bytes


@dataclass
class Block:
    number: int
    transactions: list[CommittedTx]


class Ledger:
    """A channel's ledger as a peer keeps it: blocks, world state with versions, history."""

    def __init__(self) -> None:
        self.condition = threading.Condition()
        # Block 0 is the channel's genesis (configuration) block: no chaincode transactions.
        self.blocks: list[Block] = [Block(0, [])]
        self.state: dict[str, tuple[bytes, tuple[int, int]]] = {}
        self.key_history: dict[str, list[kv_query_result_pb2.KeyModification]] = {}
        self.statuses: dict[str, tuple[int, int]] = {}

    def value(self, key: str) -> bytes | None:
        entry = self.state.get(key)
        return entry[0] if entry else None

    def append(
        self,
        *,
        tx_id: str,
        creator_msp: str,
        timestamp: Timestamp,
        reads: list[kv_rwset_pb2.KVRead],
        writes: list[kv_rwset_pb2.KVWrite],
        event: chaincode_event_pb2.ChaincodeEvent | None,
        force_code: int | None = None,
        envelope: common_pb2.Envelope | None = None,
        creator: bytes = b"",
    ) -> CommittedTx:
        """Validate and commit one transaction in a block of its own."""
        with self.condition:
            number = len(self.blocks)
            code = force_code if force_code is not None else self._validate(tx_id, reads)
            committed = CommittedTx(
                tx_id=tx_id,
                number=number,
                code=code,
                creator_msp=creator_msp,
                writes={w.key: None if w.is_delete else w.value for w in writes},
                event=event if code == Code.VALID else None,
                envelope=envelope,
                creator=creator,
            )
            if code == Code.VALID:
                for write in writes:
                    if write.is_delete:
                        self.state.pop(write.key, None)
                    else:
                        self.state[write.key] = (write.value, (number, 0))
                    self.key_history.setdefault(write.key, []).append(
                        kv_query_result_pb2.KeyModification(
                            tx_id=tx_id,
                            value=b"" if write.is_delete else write.value,
                            timestamp=timestamp,
                            is_delete=write.is_delete,
                        )
                    )
            self.blocks.append(Block(number, [committed]))
            self.statuses.setdefault(tx_id, (code, number))
            self.condition.notify_all()
            return committed

    def _validate(self, tx_id: str, reads: list[kv_rwset_pb2.KVRead]) -> int:
        if tx_id in self.statuses:
            return Code.DUPLICATE_TXID
        for read in reads:
            current = self.state.get(read.key)
            if read.HasField("version"):
                expected = (read.version.block_num, read.version.tx_num)
                if current is None or current[1] != expected:
                    return Code.MVCC_READ_CONFLICT
            elif current is not None:
                return Code.MVCC_READ_CONFLICT
        return Code.VALID


class Simulation:
    """One proposal's run against committed state: the read set and the buffered writes."""

    def __init__(self, ledger: Ledger, namespace: str) -> None:
        self.ledger = ledger
        self.namespace = namespace
        self.reads: dict[str, kv_rwset_pb2.KVRead] = {}
        self.writes: dict[str, kv_rwset_pb2.KVWrite] = {}
        self.response: Response | None = None
        self.event: chaincode_event_pb2.ChaincodeEvent | None = None

    def get(self, key: str) -> bytes:
        with self.ledger.condition:
            entry = self.ledger.state.get(key)
        # As on a peer, a transaction does not read its own writes.
        if key not in self.reads:
            read = kv_rwset_pb2.KVRead(key=key)
            if entry is not None:
                read.version.CopyFrom(
                    kv_rwset_pb2.Version(block_num=entry[1][0], tx_num=entry[1][1])
                )
            self.reads[key] = read
        return entry[0] if entry else b""

    def put(self, key: str, value: bytes | None) -> None:
        self.writes[key] = kv_rwset_pb2.KVWrite(
            key=key, is_delete=value is None, value=value or b""
        )

    def history(self, key: str) -> list[kv_query_result_pb2.KeyModification]:
        with self.ledger.condition:
            return list(self.ledger.key_history.get(key, []))

    def rwset(self) -> bytes:
        kv = kv_rwset_pb2.KVRWSet(reads=self.reads.values(), writes=self.writes.values())
        return rwset_pb2.TxReadWriteSet(
            data_model=rwset_pb2.TxReadWriteSet.KV,
            ns_rwset=[
                rwset_pb2.NsReadWriteSet(namespace=self.namespace, rwset=kv.SerializeToString())
            ],
        ).SerializeToString()


# The Gateway service.


@dataclass
class CheckedProposal:
    proposal: proposal_pb2.Proposal
    channel_header: common_pb2.ChannelHeader
    signature_header: common_pb2.SignatureHeader
    creator_msp: str
    chaincode_input: chaincode_pb2.ChaincodeInput
    chaincode: str


class TestPeer(gateway_pb2_grpc.GatewayServicer):
    """The Gateway service of a peer (with its orderer), on a loopback port."""

    __test__ = False  # not a test class, despite the name

    def __init__(
        self,
        *,
        pki: TestPKI,
        chaincode_address: str,
        channel: str = "clearance",
        chaincode: str = "talaan",
        tls: grpc.ServerCredentials | None = None,
    ) -> None:
        self.pki = pki
        self.channel = channel
        self.chaincode = chaincode
        self.ledger = Ledger()
        self.chaincode_connection = ChaincodeConnection(chaincode_address)
        # Organisations whose peers are down: the gateway gathers endorsements from the rest.
        self.offline: set[str] = set()
        self.chaincode_reachable = True
        self._faults: dict[str, list[PeerFault]] = {}

        self.delay_seconds = 0.0
        self.conflict_next_commits = 0
        self._failures: dict[str, list[grpc.StatusCode]] = {}
        # Endorse answers UNAVAILABLE, every time, for a proposal with any of these arguments.
        self.unavailable_for: set[str] = set()
        # When set, each Endorse waits until the barrier's number of endorsements are in
        # flight: writes submitted one after another never get through.
        self.endorse_barrier: threading.Barrier | None = None
        self.calls: list[str] = []
        self._server = grpc.server(futures.ThreadPoolExecutor(max_workers=16))
        gateway_pb2_grpc.add_GatewayServicer_to_server(self, self._server)
        if tls is None:
            self.port = self._server.add_insecure_port("127.0.0.1:0")
        else:
            self.port = self._server.add_secure_port("127.0.0.1:0", tls)
        self.address = f"127.0.0.1:{self.port}"
        self._stopped = False
        self._server.start()

    def stop(self) -> None:
        """Take the peer off the network: calls now fail as they do against a dead host."""
        if not self._stopped:
            self._stopped = True
            self._server.stop(grace=0).wait()
            self.chaincode_connection.close()

    # What tests arrange and inspect.

    def fail_next(self, method: str, failure: grpc.StatusCode | PeerFault, times: int = 1) -> None:
        if isinstance(failure, PeerFault):
            self._faults.setdefault(method, []).extend([failure] * times)
        else:
            self._failures.setdefault(method, []).extend([failure] * times)

    def committed(self) -> list[CommittedTx]:
        with self.ledger.condition:
            return [tx for block in self.ledger.blocks for tx in block.transactions]

    def state_json(self, key: str) -> bytes | None:
        with self.ledger.condition:
            return self.ledger.value(key)

    # Checks every request goes through.

    def _enter(self, method: str, context: grpc.ServicerContext, tx_id: str = "") -> None:
        self.calls.append(method)
        faults = self._faults.get(method)
        if faults:
            self._fail(context, faults.pop(0), tx_id)
        pending = self._failures.get(method)
        if pending:
            code = pending.pop(0)
            context.abort(code, f"injected {code.name} for {method}")

    def _hold_or_refuse(self, checked: CheckedProposal, context: grpc.ServicerContext) -> None:
        args = {arg.decode(errors="replace") for arg in checked.chaincode_input.args}
        if args & self.unavailable_for:
            context.abort(grpc.StatusCode.UNAVAILABLE, "failed to connect to all addresses")
        if self.endorse_barrier is not None:
            try:
                self.endorse_barrier.wait()
            except threading.BrokenBarrierError:
                context.abort(grpc.StatusCode.UNAVAILABLE, "endorsements were not concurrent")

    def _deny(self, context: grpc.ServicerContext, error: Exception) -> None:
        context.abort(grpc.StatusCode.PERMISSION_DENIED, str(error))

    def _refuse_proposal(
        self, context: grpc.ServicerContext, method: str, refused: CreatorRefused
    ) -> None:
        """Refuse a proposal's creator as Fabric 2.5 does: the gateway's own peer answers
        (core/endorser/msgvalidation.go) and the gateway reports its words (evaluate.go,
        endorse.go); the details of why stay in the peer's log."""
        if refused.msp_id:
            reason = f"access denied: channel [{self.channel}] creator org [{refused.msp_id}]"
        else:
            reason = (
                f"access denied: channel [{self.channel}] creator org unknown, creator is malformed"
            )
        detail = f"error validating proposal: {reason}"
        if method == "Evaluate":
            fault = PeerFault(
                grpc.StatusCode.FAILED_PRECONDITION,
                f"evaluate call to endorser returned error: {detail}",
                ((ORGANISATIONS[0], detail),),
            )
        else:
            fault = PeerFault(
                grpc.StatusCode.ABORTED,
                "failed to endorse transaction, see attached details for more info",
                ((ORGANISATIONS[0], detail),),
            )
        self._fail(context, fault)

    def _fail(self, context: grpc.ServicerContext, fault: PeerFault, tx_id: str = "") -> None:
        """Abort the call the way the gateway does: the code, and each peer's error detail."""
        details = [
            gateway_pb2.ErrorDetail(
                address=PEER_ADDRESSES[msp][0], msp_id=msp, message=text.format(tx_id=tx_id)
            )
            for msp, text in fault.details
        ]
        context.set_trailing_metadata(
            (
                (
                    protocol.STATUS_DETAILS_KEY,
                    protocol.encode_status(fault.code.value[0], fault.message, details),
                ),
            )
        )
        context.abort(fault.code, fault.message)

    def _check_proposal(
        self,
        signed: proposal_pb2.SignedProposal,
        tx_id: str,
        context: grpc.ServicerContext,
        method: str,
    ) -> CheckedProposal:
        proposal = proposal_pb2.Proposal.FromString(signed.proposal_bytes)
        header = common_pb2.Header.FromString(proposal.header)
        channel_header = common_pb2.ChannelHeader.FromString(header.channel_header)
        signature_header = common_pb2.SignatureHeader.FromString(header.signature_header)
        try:
            creator_msp = self.pki.check_signature(
                signature_header.creator, signed.proposal_bytes, signed.signature
            )
        except CreatorRefused as exc:
            self._refuse_proposal(context, method, exc)
        expected = protocol.transaction_id(signature_header.nonce, signature_header.creator)
        if channel_header.tx_id != expected or tx_id != expected:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "incorrect transaction id")
        if channel_header.channel_id != self.channel:
            context.abort(grpc.StatusCode.NOT_FOUND, f"channel {channel_header.channel_id}")
        if channel_header.type != common_pb2.HeaderType.ENDORSER_TRANSACTION:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "not an endorser transaction")
        extension = proposal_pb2.ChaincodeHeaderExtension.FromString(channel_header.extension)
        invocation = chaincode_pb2.ChaincodeInvocationSpec.FromString(
            proposal_pb2.ChaincodeProposalPayload.FromString(proposal.payload).input
        )
        chaincode = extension.chaincode_id.name
        if chaincode not in (self.chaincode, "qscc") or (
            invocation.chaincode_spec.chaincode_id.name != chaincode
        ):
            context.abort(grpc.StatusCode.NOT_FOUND, "chaincode not deployed on this channel")
        return CheckedProposal(
            proposal=proposal,
            channel_header=channel_header,
            signature_header=signature_header,
            creator_msp=creator_msp,
            chaincode_input=invocation.chaincode_spec.input,
            chaincode=chaincode,
        )

    def _simulate(
        self, signed: proposal_pb2.SignedProposal, checked: CheckedProposal, context
    ) -> Simulation:  # type: ignore[no-untyped-def]
        if self.delay_seconds:
            time.sleep(self.delay_seconds)
        tx_id = checked.channel_header.tx_id
        if not self.chaincode_reachable:
            self._fail(context, CHAINCODE_UNREACHABLE, tx_id)
        simulation = Simulation(self.ledger, self.chaincode)
        try:
            self.chaincode_connection.execute(
                channel_id=self.channel,
                tx_id=checked.channel_header.tx_id,
                chaincode_input=checked.chaincode_input,
                signed_proposal=signed,
                simulation=simulation,
            )
        except ChaincodeFailed as exc:
            # A peer answers 500 with no payload; the gateway makes that ABORTED, not a refusal.
            self._fail(
                context,
                PeerFault(
                    grpc.StatusCode.ABORTED,
                    "failed to endorse transaction, see attached details for more info",
                    (
                        (
                            "LTOMSP",
                            f"error in simulation: failed to execute transaction {tx_id}: {exc}",
                        ),
                    ),
                ),
            )
        assert simulation.response is not None
        return simulation

    def _abort_with_details(
        self, context: grpc.ServicerContext, code: grpc.StatusCode, message: str, detail: str
    ) -> None:
        details = [
            gateway_pb2.ErrorDetail(address=f"peer0.{msp.lower()}:7051", msp_id=msp, message=detail)
            for msp in ENDORSING[: ENDORSEMENT.threshold]
        ]
        context.set_trailing_metadata(
            (
                (
                    protocol.STATUS_DETAILS_KEY,
                    protocol.encode_status(code.value[0], message, details),
                ),
            )
        )
        context.abort(code, message)

    # Gateway methods.

    def _query_system_chaincode(self, checked: CheckedProposal, context):  # type: ignore[no-untyped-def]
        """qscc GetTransactionByID: the committed envelope and its validation code."""
        function, *args = [arg.decode() for arg in checked.chaincode_input.args]
        found = None
        if function == "GetTransactionByID" and len(args) == 2 and args[0] == self.channel:
            found = next((tx for tx in self.committed() if tx.tx_id == args[1]), None)
        if found is None or found.envelope is None:
            # qscc's own error response, which the gateway reports as a chaincode response.
            wanted = args[-1] if args else ""
            detail = f"chaincode response 500, Failed to get transaction with id {wanted}"
            self._abort_with_details(
                context,
                grpc.StatusCode.UNKNOWN,
                f"evaluate call to endorser returned error: {detail}",
                detail,
            )
        assert found is not None and found.envelope is not None
        processed = transaction_pb2.ProcessedTransaction(
            transactionEnvelope=found.envelope, validationCode=found.code
        )
        return gateway_pb2.EvaluateResponse(
            result=Response(status=200, payload=processed.SerializeToString())
        )

    def Evaluate(self, request, context):  # type: ignore[no-untyped-def]
        self._enter("Evaluate", context, request.transaction_id)
        signed = request.proposed_transaction
        checked = self._check_proposal(signed, request.transaction_id, context, "Evaluate")
        if checked.chaincode == "qscc":
            return self._query_system_chaincode(checked, context)
        simulation = self._simulate(signed, checked, context)
        response = simulation.response
        if response.status >= 400:
            self._abort_with_details(
                context,
                grpc.StatusCode.UNKNOWN,
                "evaluate call to endorser returned error: "
                f"chaincode response {response.status}, {response.message}",
                f"chaincode response {response.status}, {response.message}",
            )
        return gateway_pb2.EvaluateResponse(result=response)

    def Endorse(self, request, context):  # type: ignore[no-untyped-def]
        self._enter("Endorse", context, request.transaction_id)
        signed = request.proposed_transaction
        checked = self._check_proposal(signed, request.transaction_id, context, "Endorse")
        self._hold_or_refuse(checked, context)
        simulation = self._simulate(signed, checked, context)
        response = simulation.response
        if response.status >= 400:
            self._abort_with_details(
                context,
                grpc.StatusCode.ABORTED,
                "failed to endorse transaction, see attached details for more info",
                f"chaincode response {response.status}, {response.message}",
            )
        # The gateway's own peer has endorsed; the others the policy needs must answer too.
        online = [msp for msp in ENDORSING if msp not in self.offline]
        if len(online) < ENDORSEMENT.threshold:
            down = tuple((msp, _dial_refused(msp)) for msp in ENDORSING if msp in self.offline)
            self._fail(
                context, PeerFault(ENDORSERS_UNREACHABLE.code, ENDORSERS_UNREACHABLE.message, down)
            )
        action = proposal_pb2.ChaincodeAction(
            results=simulation.rwset(),
            events=simulation.event.SerializeToString() if simulation.event else b"",
            response=response,
            chaincode_id=chaincode_pb2.ChaincodeID(name=self.chaincode),
        )
        response_payload = proposal_response_pb2.ProposalResponsePayload(
            proposal_hash=hashlib.sha256(
                checked.proposal.header + checked.proposal.payload
            ).digest(),
            extension=action.SerializeToString(),
        ).SerializeToString()
        endorsements = [
            proposal_response_pb2.Endorsement(
                endorser=peer.creator, signature=peer.sign(response_payload + peer.creator)
            )
            for peer in [self.pki.peers[msp] for msp in online][: ENDORSEMENT.threshold]
        ]
        transaction = transaction_pb2.Transaction(
            actions=[
                transaction_pb2.TransactionAction(
                    header=common_pb2.Header.FromString(checked.proposal.header).signature_header,
                    payload=transaction_pb2.ChaincodeActionPayload(
                        chaincode_proposal_payload=checked.proposal.payload,
                        action=transaction_pb2.ChaincodeEndorsedAction(
                            proposal_response_payload=response_payload,
                            endorsements=endorsements,
                        ),
                    ).SerializeToString(),
                )
            ]
        )
        payload = common_pb2.Payload(
            header=common_pb2.Header.FromString(checked.proposal.header),
            data=transaction.SerializeToString(),
        )
        return gateway_pb2.EndorseResponse(
            prepared_transaction=common_pb2.Envelope(payload=payload.SerializeToString())
        )

    def Submit(self, request, context):  # type: ignore[no-untyped-def]
        self._enter("Submit", context)
        envelope = request.prepared_transaction
        payload = common_pb2.Payload.FromString(envelope.payload)
        channel_header = common_pb2.ChannelHeader.FromString(payload.header.channel_header)
        signature_header = common_pb2.SignatureHeader.FromString(payload.header.signature_header)
        try:
            creator_msp = self.pki.check_signature(
                signature_header.creator, envelope.payload, envelope.signature
            )
        except CreatorRefused:
            # The gateway does not check it; the orderer does, against /Channel/Writers.
            context.abort(
                grpc.StatusCode.ABORTED,
                "received unsuccessful response from orderer: status=FORBIDDEN, info=implicit "
                "policy evaluation failed - 0 sub-policies were satisfied, but this policy "
                "requires 1 of the 'Writers' sub-policies to be satisfied: permission denied",
            )
        expected = protocol.transaction_id(signature_header.nonce, signature_header.creator)
        if channel_header.tx_id != expected or request.transaction_id != expected:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "incorrect transaction id")
        transaction = transaction_pb2.Transaction.FromString(payload.data)
        action_payload = transaction_pb2.ChaincodeActionPayload.FromString(
            transaction.actions[0].payload
        )
        endorsed = action_payload.action
        response_payload = proposal_response_pb2.ProposalResponsePayload.FromString(
            endorsed.proposal_response_payload
        )
        action = proposal_pb2.ChaincodeAction.FromString(response_payload.extension)
        endorsers = set()
        for endorsement in endorsed.endorsements:
            try:
                msp_id = self.pki.check_signature(
                    endorsement.endorser,
                    endorsed.proposal_response_payload + endorsement.endorser,
                    endorsement.signature,
                )
            except PermissionError:
                continue
            # The policy's principals are 'MSP.peer': an endorsement by any other role of the
            # organisation does not count.
            peer = self.pki.peers.get(msp_id)
            if peer is not None and endorsement.endorser == peer.creator:
                endorsers.add(msp_id)
        rwset = rwset_pb2.TxReadWriteSet.FromString(action.results)
        reads: list[kv_rwset_pb2.KVRead] = []
        writes: list[kv_rwset_pb2.KVWrite] = []
        for namespace in rwset.ns_rwset:
            kv = kv_rwset_pb2.KVRWSet.FromString(namespace.rwset)
            reads.extend(kv.reads)
            writes.extend(kv.writes)
        event = (
            chaincode_event_pb2.ChaincodeEvent.FromString(action.events) if action.events else None
        )
        force_code = None
        if not ENDORSEMENT.satisfied_by(endorsers):
            force_code = Code.ENDORSEMENT_POLICY_FAILURE
        elif self.conflict_next_commits:
            self.conflict_next_commits -= 1
            force_code = Code.MVCC_READ_CONFLICT
        self.ledger.append(
            tx_id=expected,
            creator_msp=creator_msp,
            creator=signature_header.creator,
            timestamp=channel_header.timestamp,
            reads=reads,
            writes=writes,
            event=event,
            force_code=force_code,
            envelope=envelope,
        )
        return gateway_pb2.SubmitResponse()

    def CommitStatus(self, request, context):  # type: ignore[no-untyped-def]
        self._enter("CommitStatus", context)
        inner = gateway_pb2.CommitStatusRequest.FromString(request.request)
        try:
            self.pki.check_signature(inner.identity, request.request, request.signature)
        except PermissionError as exc:
            self._deny(context, exc)
        with self.ledger.condition:
            while inner.transaction_id not in self.ledger.statuses:
                remaining = context.time_remaining()
                if remaining is not None and remaining <= 0:
                    context.abort(grpc.StatusCode.DEADLINE_EXCEEDED, "commit status timed out")
                self.ledger.condition.wait(timeout=min(remaining or 0.1, 0.1))
            code, block = self.ledger.statuses[inner.transaction_id]
        return gateway_pb2.CommitStatusResponse(result=code, block_number=block)

    def ChaincodeEvents(self, request, context) -> Iterator:  # type: ignore[no-untyped-def]
        self._enter("ChaincodeEvents", context)
        inner = gateway_pb2.ChaincodeEventsRequest.FromString(request.request)
        try:
            self.pki.check_signature(inner.identity, request.request, request.signature)
        except PermissionError as exc:
            self._deny(context, exc)
        with self.ledger.condition:
            height = len(self.ledger.blocks)
        position = inner.start_position
        if position.HasField("specified"):
            next_block = position.specified.number
        elif position.HasField("oldest"):
            next_block = 0
        else:
            next_block = height
        first = True
        while context.is_active():
            with self.ledger.condition:
                if next_block >= len(self.ledger.blocks):
                    self.ledger.condition.wait(timeout=0.1)
                    continue
                block = self.ledger.blocks[next_block]
            next_block += 1
            transactions = block.transactions
            ids = [tx.tx_id for tx in transactions]
            if first and inner.after_transaction_id in ids:
                # Resume within the start block: skip up to and including that transaction.
                transactions = transactions[ids.index(inner.after_transaction_id) + 1 :]
            first = False
            events = [
                tx.event
                for tx in transactions
                if tx.event is not None and tx.event.chaincode_id == inner.chaincode_id
            ]
            if events:
                yield gateway_pb2.ChaincodeEventsResponse(events=events, block_number=block.number)
