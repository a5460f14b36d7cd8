"""Contained fixes for defects of fabric-chaincode-python 2.5.4, seen against a Fabric 2.5 peer.

One override per defect, each named after the letter it has in the issue and proven by a test
in ``tests/chaincode/test_fabric_shim_fixes.py`` that also shows the unpatched library still has
the defect (so an upgrade that fixes one tells us to delete its override):

(a) ``set_event`` events never reach the peer: the handler builds the COMPLETED message without
    the stub's event. ``Handler.handle_stub_interaction`` puts it in ``chaincode_event``.
(b) Concurrent transactions share one gRPC stream and write to it without a lock; grpc.aio
    refuses a second write in flight (GRPC_CALL_ERROR_TOO_MANY_OPERATIONS) and the transaction
    hangs. ``Handler.chat_with_peer`` serialises every write.
(c) An ERROR the peer returns for a state call (GET_STATE, PUT_STATE, ...) is handed back as if
    it were the answer. ``Handler._Handler__ask_peer_and_listen`` raises ``PeerError`` instead.
(d) An empty key is accepted by the stub's state calls. ``ChaincodeStub`` refuses it.
(e) Importing the library sets the root logger to DEBUG (undone in ``chaincode.shim``) and logs
    every message, proposal and written value. ``quiet_library_logging`` drops that chatter.
(f) ``get_attribute`` always returns None and ``get_id`` is not Go's format. ``ClientIdentity``
    reads the creator's certificate with ``cryptography`` and answers as Go's ``cid`` does.
(g) Contract transactions must be ``async``: the stub's state calls are coroutines, and a plain
    ``def`` transaction gets a coroutine object (truthy, never run) instead of the value,
    silently. ``check_transactions_are_async`` refuses such a contract when the server starts.

Nothing here edits site-packages. ``chaincode.server`` uses the subclasses and calls
:func:`apply` for the two fixes that can only be made on the library's module state.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
from base64 import b64encode
from functools import cached_property
from pathlib import Path
from typing import Any, cast

from cryptography import x509
from cryptography.x509.oid import NameOID, ObjectIdentifier
from fabric_protos.peer import chaincode_pb2, chaincode_shim_pb2, proposal_response_pb2

from chaincode.shim import (
    LIBRARY_LOGGER,
    contract_chaincode,
    shim_handler,
    shim_server,
    shim_stub,
    transaction_context,
)

logger = logging.getLogger(__name__)

Message = chaincode_shim_pb2.ChaincodeMessage
ERROR_THRESHOLD = 400


class PeerError(RuntimeError):
    """The peer answered a state call with an error; the transaction must fail."""


# (d) ---------------------------------------------------------------------------------------


def _require_key(key: Any) -> None:
    # Go's shim refuses an empty key ("key must not be an empty string"); 2.5.4 sends it on.
    if not isinstance(key, str) or not key:
        raise ValueError("key must not be an empty string")


class ChaincodeStub(shim_stub.ChaincodeStub):
    """The library's stub, refusing empty keys in every single-key state call (defect d)."""

    async def get_state(self, key: str) -> Any:
        _require_key(key)
        return await super().get_state(key)

    async def put_state(self, key: str, value: Any) -> Any:
        _require_key(key)
        return await super().put_state(key, value)

    async def delete_state(self, key: str) -> Any:
        _require_key(key)
        return await super().delete_state(key)

    async def get_history_for_key(self, key: str) -> Any:
        _require_key(key)
        return await super().get_history_for_key(key)


# (b) ---------------------------------------------------------------------------------------


class _SerialWriter:
    """A servicer context whose ``write`` lets one message onto the stream at a time."""

    def __init__(self, context: Any) -> None:
        self._context = context
        self._lock = asyncio.Lock()

    async def write(self, message: Any) -> None:
        async with self._lock:
            await self._context.write(message)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._context, name)


class Handler(shim_handler.Handler):
    """The library's stream handler with defects (a), (b) and (c) fixed."""

    stub_class = ChaincodeStub

    async def chat_with_peer(self, stream: Any, context: Any) -> Any:
        # (b) Every task of this connection (one per transaction, plus the message queue) writes
        # through self.context, so wrapping it here serialises all writes on the stream.
        return await super().chat_with_peer(stream, _SerialWriter(context))

    async def handle_stub_interaction(self, msg: Any, action: str = "Invoke") -> None:
        """Run Init or Invoke and answer COMPLETED, carrying the transaction's event (a)."""
        try:
            cc_input = chaincode_pb2.ChaincodeInput.FromString(msg.payload)
            stub = self.stub_class(self, msg.channel_id, msg.txid, cc_input, msg.proposal)
            run = self.chaincode.init if (action or "").lower() == "init" else self.chaincode.invoke
            response = await run(stub)
        except Exception as exc:
            # As Go's shim does: an ERROR reply, rather than a silent task death and a peer
            # waiting out its execute timeout.
            logger.exception("Transaction %s failed in the shim", msg.txid)
            await self.context.write(
                Message(
                    type=Message.ERROR,
                    payload=str(exc).encode(),
                    txid=msg.txid,
                    channel_id=msg.channel_id,
                )
            )
            return
        if not response or not response.status:
            response = proposal_response_pb2.Response(
                status=500, message=f"Calling chaincode {action}() returned no response."
            )
        reply = Message(
            type=Message.COMPLETED,
            payload=response.SerializeToString(),
            txid=msg.txid,
            channel_id=msg.channel_id,
        )
        events = stub.get_events()
        if events and response.status < ERROR_THRESHOLD:
            # (a) Fabric keeps one event per transaction, the last one set (Go's SetEvent
            # replaces); the peer fills in the chaincode id. A refused proposal is never
            # endorsed, so its event would mean nothing.
            reply.chaincode_event.CopyFrom(events[-1])
        await self.context.write(reply)

    async def _Handler__ask_peer_and_listen(self, msg: Any, action: str) -> Any:
        # (c) The library returns whatever came back; Go's shim accepts only RESPONSE and turns
        # ERROR (its payload is the peer's message) into an error.
        answer = await super()._Handler__ask_peer_and_listen(msg, action)
        if answer.type == Message.RESPONSE:
            return answer
        if answer.type == Message.ERROR:
            reason = answer.payload.decode(errors="replace")
            raise PeerError(f"{action} failed on the peer: {reason}")
        raise PeerError(f"{action}: unexpected {Message.Type.Name(answer.type)} from the peer.")


class ChaincodeService(shim_server.ChaincodeService):
    """The library's gRPC Chaincode service, chatting through the fixed :class:`Handler`."""

    async def Connect(self, request_iterator: Any, context: Any) -> None:
        await Handler(self._ccid, self._cc).chat_with_peer(request_iterator, context)


# (f) ---------------------------------------------------------------------------------------

# Fabric CA puts enrolment attributes in this (unregistered) extension as JSON {"attrs": {...}}.
FABRIC_CA_ATTRIBUTES_OID = ObjectIdentifier("1.2.3.4.5.6.7.8.1")

# Go's pkix.Name keeps these attribute types in named fields and prints them, in this order
# (reversed), as one RDN per type; every other attribute is printed after them as OID=#hex.
_GO_NAMED_ORDER = (
    NameOID.COUNTRY_NAME,
    NameOID.STATE_OR_PROVINCE_NAME,
    NameOID.LOCALITY_NAME,
    NameOID.STREET_ADDRESS,
    NameOID.POSTAL_CODE,
    NameOID.ORGANIZATION_NAME,
    NameOID.ORGANIZATIONAL_UNIT_NAME,
    NameOID.COMMON_NAME,
    NameOID.SERIAL_NUMBER,
)
_GO_TYPE_NAMES = {
    NameOID.COUNTRY_NAME: "C",
    NameOID.STATE_OR_PROVINCE_NAME: "ST",
    NameOID.LOCALITY_NAME: "L",
    NameOID.STREET_ADDRESS: "STREET",
    NameOID.POSTAL_CODE: "POSTALCODE",
    NameOID.ORGANIZATION_NAME: "O",
    NameOID.ORGANIZATIONAL_UNIT_NAME: "OU",
    NameOID.COMMON_NAME: "CN",
    NameOID.SERIAL_NUMBER: "SERIALNUMBER",
}
_SINGLE_VALUED = (NameOID.COMMON_NAME, NameOID.SERIAL_NUMBER)
_PRINTABLE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'()+,-./:=? ")


def _der(tag: int, body: bytes) -> bytes:
    size = len(body)
    if size < 0x80:
        return bytes([tag, size]) + body
    length = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(length)]) + length + body


def _go_marshal(value: str | bytes) -> bytes:
    """DER of a value as Go's asn1.Marshal writes it: PrintableString if it can, else UTF8."""
    if isinstance(value, bytes):
        return _der(0x03, b"\x00" + value)  # a BIT STRING with no unused bits
    tag = 0x13 if set(value) <= _PRINTABLE else 0x0C
    return _der(tag, value.encode())


def _go_escape(value: str) -> str:
    escaped = []
    for index, char in enumerate(value):
        if (
            char in ',+"\\<>;'
            or (char == " " and index in (0, len(value) - 1))
            or (char == "#" and index == 0)
        ):
            escaped.append("\\")
        escaped.append(char)
    return "".join(escaped)


def go_distinguished_name(name: x509.Name) -> str:
    """Render a name exactly as Go's ``pkix.Name.String()`` does for a parsed certificate."""
    named: dict[ObjectIdentifier, list[str]] = {}
    others: list[str] = []
    for rdn in name.rdns:
        for attribute in rdn:
            value = attribute.value
            if attribute.oid in _GO_TYPE_NAMES and isinstance(value, str):
                if attribute.oid in _SINGLE_VALUED:
                    named[attribute.oid] = [value]  # Go keeps the last one
                else:
                    named.setdefault(attribute.oid, []).append(value)
            else:
                others.append(f"{attribute.oid.dotted_string}=#{_go_marshal(value).hex()}")
    rdns = [[other] for other in others]
    for oid in _GO_NAMED_ORDER:
        if oid in named:
            rdns.append([f"{_GO_TYPE_NAMES[oid]}={_go_escape(v)}" for v in named[oid]])
    return ",".join("+".join(rdn) for rdn in reversed(rdns))


class ClientIdentity(transaction_context.ClientIdentity):
    """The caller's identity, answering ``get_id`` and attributes as Go's ``cid`` (defect f)."""

    @cached_property
    def certificate(self) -> x509.Certificate | None:
        """The creator's X.509 certificate, or None when the creator carries none."""
        self._ensure_loaded()
        raw = self._cert.encode() if isinstance(self._cert, str) else self._cert
        if not raw:
            return None
        if b"-----BEGIN" in raw:
            return x509.load_pem_x509_certificate(raw)
        return x509.load_der_x509_certificate(raw)

    def get_id(self) -> str:
        """Return base64 of ``x509::<subject DN>::<issuer DN>``, the DNs in Go's format."""
        certificate = self.certificate
        if certificate is None:
            raise ValueError("Cannot determine the identity: the creator has no certificate.")
        subject = go_distinguished_name(certificate.subject)
        issuer = go_distinguished_name(certificate.issuer)
        return b64encode(f"x509::{subject}::{issuer}".encode()).decode()

    @cached_property
    def attributes(self) -> dict[str, str]:
        """The Fabric CA attributes enrolled into the certificate (empty when there are none)."""
        certificate = self.certificate
        if certificate is None:
            return {}
        try:
            extension = certificate.extensions.get_extension_for_oid(FABRIC_CA_ATTRIBUTES_OID)
        except x509.ExtensionNotFound:
            return {}
        # An extension cryptography does not know is always read as its raw bytes.
        document = json.loads(cast(x509.UnrecognizedExtension, extension.value).value)
        return {str(key): str(value) for key, value in (document.get("attrs") or {}).items()}

    def get_attribute(self, attr_name: str) -> str | None:
        """Return the attribute's value, or None when the certificate does not carry it."""
        return self.attributes.get(attr_name)

    def assert_attribute(self, attr_name: str) -> bool:
        return attr_name in self.attributes

    def assert_attribute_value(self, attr_name: str, attr_value: str) -> bool:
        """True when the certificate carries the attribute with exactly this value."""
        return self.attributes.get(attr_name) == attr_value


# (e) ---------------------------------------------------------------------------------------

# As imported and as resolved: a record's pathname is the path the module was imported by,
# which differs from the resolved one when the virtualenv is reached through a symlink.
_LIBRARY_DIRS = tuple(
    {
        str(Path(shim_handler.__file__).parent.parent),
        str(Path(shim_handler.__file__).resolve().parent.parent),
    }
)


def _not_library_chatter(record: logging.LogRecord) -> bool:
    # The library logs each message ("-->> Look out!" at WARNING), each proposal with the
    # creator's certificate, and each written value; keep only its errors.
    return record.levelno >= logging.ERROR or not record.pathname.startswith(_LIBRARY_DIRS)


def quiet_library_logging() -> None:
    """Drop the library's per-message logging below ERROR; asyncio's own records pass."""
    if _not_library_chatter not in LIBRARY_LOGGER.filters:
        LIBRARY_LOGGER.addFilter(_not_library_chatter)


# (g) ---------------------------------------------------------------------------------------


def check_transactions_are_async(contract: Any) -> None:
    """Refuse a contract with a plain ``def`` transaction (defect g)."""
    # The same test the contract API uses to tell transactions from its interface methods.
    is_interface = contract_chaincode._is_contract_interface_method
    plain = [
        name
        for name, member in inspect.getmembers(type(contract), inspect.isfunction)
        if not name.startswith("_")
        and not is_interface(name)
        and not inspect.iscoroutinefunction(member)
    ]
    if plain:
        raise TypeError(
            f"Transactions of {type(contract).__name__} must be 'async def': {', '.join(plain)}."
        )


def apply() -> None:
    """Make the fixes that live in the library's module state; safe to call more than once.

    The handler, stub and service fixes are subclasses that ``chaincode.server`` uses directly.
    """
    # (f) ContractChaincode.invoke builds the identity from this module-level name.
    contract_chaincode.ClientIdentity = ClientIdentity
    quiet_library_logging()
