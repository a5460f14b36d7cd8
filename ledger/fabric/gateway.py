"""A client of a Fabric peer's Gateway service (Fabric 2.4 and later), over gRPC.

One client per process holds one gRPC channel and one signing identity per organisation.
Every unary call carries a deadline. Only the chaincode refusing the change is
``LedgerRejected`` (with the chaincode's own message); a peer refusing the signer ("access
denied") is ``LedgerUnavailable`` at once, a configuration fault; every other failure is
``Transient``, retried with backoff by ``with_retries`` and, when the retries run out,
``LedgerUnavailable``.

A Fabric 2.5 gateway reports a chaincode's error response as "chaincode response N, message"
in the detail of each endorsing peer that ran it (Endorse: ABORTED; Evaluate: UNKNOWN, in the
message too). ABORTED also carries outages with no such detail: endorsing peers that cannot be
dialled ("dial tcp ...: connect: connection refused") or a chaincode server that cannot be
reached ("could not launch chaincode ... cannot create connection"); FAILED_PRECONDITION "no
combination of peers can be derived which satisfy the endorsement policy" comes for seconds
after a peer restarts, until gossip finds it again. So the detail decides, never the code.
"""

from __future__ import annotations

import logging
import random
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import grpc
from fabric_protos.common import common_pb2
from fabric_protos.gateway import gateway_pb2, gateway_pb2_grpc
from fabric_protos.peer import transaction_pb2

from ledger.exceptions import LedgerRejected, LedgerUnavailable
from ledger.fabric import protocol
from ledger.fabric.identity import Identity, IdentityMissing, load_identity

logger = logging.getLogger(__name__)

T = TypeVar("T")

_CHAINCODE_RESPONSE = re.compile(r"chaincode response \d+, (?P<message>.*)$", re.DOTALL)
# How a peer words a refused creator (core/endorser/msgvalidation.go, Fabric 2.5).
_ACCESS_DENIED = "access denied: channel ["
# The longest pause between two attempts: a restarted peer is found again within seconds.
MAX_BACKOFF_SECONDS = 2.0
QSCC = "qscc"


class Transient(Exception):
    """A failure another attempt may not meet; ``with_retries`` turns the last into
    LedgerUnavailable."""


@dataclass(frozen=True)
class GatewaySettings:
    endpoint: str
    tls_ca_file: str
    tls_server_name: str
    identities_dir: Path
    deadline_seconds: float
    retries: int
    channel: str
    chaincode: str
    query_msp: str
    backoff_seconds: float = 0.25
    # No retry starts once this long has passed since a call's first attempt.
    retry_seconds: float = 10.0


@dataclass(frozen=True)
class CommitStatus:
    code: int
    block: int

    @property
    def code_name(self) -> str:
        return transaction_pb2.TxValidationCode.Name(self.code)

    @property
    def valid(self) -> bool:
        return self.code == transaction_pb2.TxValidationCode.VALID


def _peer_details(error: grpc.RpcError) -> list[gateway_pb2.ErrorDetail]:
    trailer = dict(error.trailing_metadata() or ()).get(protocol.STATUS_DETAILS_KEY)
    return protocol.error_details(trailer)


def chaincode_refusal(error: grpc.RpcError) -> str | None:
    """The chaincode's message if the call failed because the chaincode refused, else None."""
    texts = [detail.message for detail in _peer_details(error)] + [error.details() or ""]
    for text in texts:
        match = _CHAINCODE_RESPONSE.search(text)
        if match:
            return match.group("message").strip()
    return None


def describe_failure(error: grpc.RpcError) -> str:
    """The code, the message and what each peer said, for the logs."""
    peers = "; ".join(f"{d.msp_id} {d.address}: {d.message}" for d in _peer_details(error))
    text = f"{error.code().name} {error.details() or ''}".strip()
    return f"{text} ({peers})" if peers else text


def signer_refused(error: grpc.RpcError) -> bool:
    """Whether a peer refused the signing identity itself ("access denied": a certificate its
    MSP's CA did not issue, an MSP not on the channel, a signature that does not verify)."""
    texts = [detail.message for detail in _peer_details(error)] + [error.details() or ""]
    return any(_ACCESS_DENIED in text for text in texts)


def raise_for(error: grpc.RpcError, what: str) -> None:
    """Re-raise a failed call as LedgerRejected if the chaincode refused, as LedgerUnavailable
    if the peer refused the signer (no retry can help: the identity is misconfigured), else as
    Transient."""
    refusal = chaincode_refusal(error)
    if refusal is not None:
        raise LedgerRejected(refusal) from error
    if signer_refused(error):
        raise LedgerUnavailable(
            f"{what}: the peer refused the signing identity; check its certificate in "
            f"FABRIC_IDENTITIES_DIR ({describe_failure(error)})"
        ) from error
    raise Transient(f"{what}: {describe_failure(error)}") from error


class GatewayClient:
    """Evaluate, endorse, submit, commit status and chaincode events against one peer."""

    def __init__(self, config: GatewaySettings) -> None:
        self.config = config
        self._lock = threading.Lock()
        self._channel: grpc.Channel | None = None
        # Keyed by (MSP id, identity name): "" is the organisation's one identity.
        self._identities: dict[tuple[str, str], Identity] = {}

    # Connection and identities.

    @property
    def stub(self) -> gateway_pb2_grpc.GatewayStub:
        with self._lock:
            if self._channel is None:
                self._channel = self._open_channel()
            return gateway_pb2_grpc.GatewayStub(self._channel)

    def _open_channel(self) -> grpc.Channel:
        if not self.config.tls_ca_file:
            return grpc.insecure_channel(self.config.endpoint)
        credentials = grpc.ssl_channel_credentials(
            root_certificates=Path(self.config.tls_ca_file).read_bytes()
        )
        options = []
        if self.config.tls_server_name:
            options.append(("grpc.ssl_target_name_override", self.config.tls_server_name))
        return grpc.secure_channel(self.config.endpoint, credentials, options=options)

    def close(self) -> None:
        with self._lock:
            if self._channel is not None:
                self._channel.close()
                self._channel = None

    def identity(self, msp_id: str, name: str = "") -> Identity:
        """The MSP's identity, or with ``name`` that one of the MSP's several (a dealer's).
        A missing one is never stood in for by another: the signer is the authority."""
        key = (msp_id, name)
        with self._lock:
            if key not in self._identities:
                try:
                    self._identities[key] = load_identity(self.config.identities_dir, msp_id, name)
                except IdentityMissing as exc:
                    # A configuration fault, not a refusal of the change: say so plainly.
                    raise LedgerUnavailable(str(exc)) from exc
            return self._identities[key]

    # Retries.

    def with_retries(self, attempt: Callable[[], T], what: str) -> T:
        """Run ``attempt``; on Transient, back off and run it again, up to the configured
        number of retries and while ``retry_seconds`` have not passed, then raise
        LedgerUnavailable."""
        tries = max(self.config.retries, 0) + 1
        give_up_at = time.monotonic() + self.config.retry_seconds
        for number in range(1, tries + 1):
            try:
                return attempt()
            except Transient as exc:
                logger.warning("%s: attempt %d of %d failed: %s", what, number, tries, exc)
                delay = min(self.config.backoff_seconds * 2 ** (number - 1), MAX_BACKOFF_SECONDS)
                delay *= random.uniform(1.0, 1.5)
                if number == tries or time.monotonic() + delay > give_up_at:
                    raise LedgerUnavailable() from exc
                time.sleep(delay)
        raise AssertionError("unreachable")

    # Calls (one attempt each).

    def proposal(
        self,
        msp_id: str,
        function: str,
        args: list[str],
        chaincode: str = "",
        identity_name: str = "",
    ) -> protocol.Proposal:
        identity = self.identity(msp_id, identity_name)
        return protocol.build_proposal(
            creator=identity.creator,
            sign=identity.sign,
            channel=self.config.channel,
            chaincode=chaincode or self.config.chaincode,
            function=function,
            args=args,
        )

    def evaluate_once(
        self,
        msp_id: str,
        function: str,
        args: list[str],
        chaincode: str = "",
        identity_name: str = "",
    ) -> bytes:
        proposal = self.proposal(msp_id, function, args, chaincode, identity_name)
        request = gateway_pb2.EvaluateRequest(
            transaction_id=proposal.tx_id,
            channel_id=self.config.channel,
            proposed_transaction=proposal.signed,
        )
        try:
            response = self.stub.Evaluate(request, timeout=self.config.deadline_seconds)
        except grpc.RpcError as exc:
            raise_for(exc, f"Evaluate {function}")
        if response.result.status >= 400:
            raise LedgerRejected(response.result.message or f"{function} was refused.")
        return response.result.payload

    def evaluate(self, function: str, args: list[str], msp_id: str | None = None) -> bytes:
        msp = msp_id or self.config.query_msp
        return self.with_retries(lambda: self.evaluate_once(msp, function, args), function)

    def committed_transaction(
        self, msp_id: str, tx_id: str, identity_name: str = ""
    ) -> protocol.Endorsed:
        """A committed transaction as the ledger holds it (the peer's query system chaincode)."""
        try:
            payload = self.evaluate_once(
                msp_id, "GetTransactionByID", [self.config.channel, tx_id], QSCC, identity_name
            )
        except LedgerRejected as exc:
            # qscc, not our chaincode, answered: the transaction is not (yet) on this peer.
            raise Transient(f"GetTransactionByID {tx_id}: {exc}") from exc
        committed = protocol.read_processed(payload)
        if committed.tx_id != tx_id:
            raise Transient(f"GetTransactionByID {tx_id} answered with {committed.tx_id}")
        return committed

    def endorse(self, proposal: protocol.Proposal) -> common_pb2.Envelope:
        request = gateway_pb2.EndorseRequest(
            transaction_id=proposal.tx_id,
            channel_id=self.config.channel,
            proposed_transaction=proposal.signed,
        )
        try:
            response = self.stub.Endorse(request, timeout=self.config.deadline_seconds)
        except grpc.RpcError as exc:
            raise_for(exc, "Endorse")
        return response.prepared_transaction

    def submit(
        self, msp_id: str, tx_id: str, prepared: common_pb2.Envelope, identity_name: str = ""
    ) -> None:
        """Sign the prepared transaction with the proposal's identity and send it to order."""
        signer = self.identity(msp_id, identity_name)
        envelope = common_pb2.Envelope(
            payload=prepared.payload, signature=signer.sign(prepared.payload)
        )
        request = gateway_pb2.SubmitRequest(
            transaction_id=tx_id, channel_id=self.config.channel, prepared_transaction=envelope
        )
        try:
            self.stub.Submit(request, timeout=self.config.deadline_seconds)
        except grpc.RpcError as exc:
            raise_for(exc, "Submit")

    def commit_status(self, msp_id: str, tx_id: str, identity_name: str = "") -> CommitStatus:
        """Wait for the transaction's validation code and block number."""
        identity = self.identity(msp_id, identity_name)
        request = protocol.commit_status_request(
            identity=identity.creator, sign=identity.sign, channel=self.config.channel, tx_id=tx_id
        )
        try:
            response = self.stub.CommitStatus(request, timeout=self.config.deadline_seconds)
        except grpc.RpcError as exc:
            raise_for(exc, "CommitStatus")
        return CommitStatus(code=response.result, block=response.block_number)

    def chaincode_events(
        self,
        *,
        start_block: int | None,
        after_tx_id: str = "",
        idle_seconds: float | None = None,
        msp_id: str | None = None,
    ) -> Iterator[gateway_pb2.ChaincodeEventsResponse]:
        """Follow the chaincode's events, one response per block that has any.

        The stream is open-ended; with ``idle_seconds`` it ends after that long without a
        block (the Gateway cannot say where the chain's tip is). Transient failures raise
        Transient so a follower can reconnect from its checkpoint.
        """
        identity = self.identity(msp_id or self.config.query_msp)
        request = protocol.chaincode_events_request(
            identity=identity.creator,
            sign=identity.sign,
            channel=self.config.channel,
            chaincode=self.config.chaincode,
            start_block=start_block,
            after_tx_id=after_tx_id,
        )
        call = self.stub.ChaincodeEvents(request)
        watchdog = _Watchdog(idle_seconds, call.cancel) if idle_seconds else None
        try:
            if watchdog:
                watchdog.start()
            for response in call:
                if watchdog:
                    watchdog.pause()
                yield response
                if watchdog:
                    watchdog.start()
        except grpc.RpcError as exc:
            if watchdog and watchdog.fired and exc.code() == grpc.StatusCode.CANCELLED:
                return
            raise_for(exc, "ChaincodeEvents")
        finally:
            if watchdog:
                watchdog.pause()
            call.cancel()


class _Watchdog:
    """Calls ``action`` once ``seconds`` pass between ``start`` and ``pause``."""

    def __init__(self, seconds: float, action: Callable[[], object]) -> None:
        self.seconds = seconds
        self.action = action
        self.fired = False
        self._timer: threading.Timer | None = None

    def _fire(self) -> None:
        self.fired = True
        self.action()

    def start(self) -> None:
        self.pause()
        self._timer = threading.Timer(self.seconds, self._fire)
        self._timer.daemon = True
        self._timer.start()

    def pause(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
