"""Each contained defect of fabric-chaincode-python 2.5.4: the library has it, the fix cures it.

The "library still has it" tests run the unpatched library; when an upgrade makes one of them
fail, the matching override in ``chaincode/fabric_shim_fixes.py`` can go.
"""

from __future__ import annotations

import asyncio
import json
import logging
from base64 import b64decode
from typing import Any

import grpc
import pytest
from cryptography.x509.oid import NameOID, ObjectIdentifier

from chaincode import fabric_shim_fixes
from chaincode.contract import CLEARANCE_EVENT, TalaanContract
from chaincode.shim import LIBRARY_LOGGER, Contract, shim_handler, shim_stub, transaction_context
from tests.chaincode.certs import LTO_CA, certificate, name
from tests.chaincode.shim_peer import ScriptedPeer, start_server

VIN = "JTDBR32E720012345"
ACTOR = "a" * 64


def run(coroutine: Any, timeout: float = 20) -> Any:
    return asyncio.run(asyncio.wait_for(coroutine, timeout))


async def with_peer(test: Any, *, fixed: bool = True) -> Any:
    server, address = await start_server(fixed=fixed)
    try:
        async with grpc.aio.insecure_channel(address) as channel, ScriptedPeer(channel) as peer:
            return await test(peer)
    finally:
        await server.stop(0)


def open_clearance(peer: ScriptedPeer, clearance: str = "c1", change: str = "ch1") -> Any:
    return peer.invoke(
        "UpdateClearanceStatus", clearance, VIN, "HPG", "", "pending", change, ACTOR, ""
    )


# (a) events ------------------------------------------------------------------------------


def test_the_completed_message_carries_the_clearance_event():
    async def test(peer):
        response, completed = await open_clearance(peer)
        return peer.registered_as, response, completed

    registered_as, response, completed = run(with_peer(test))
    assert registered_as == "talaan_1.0:test"
    assert response.status == 200
    assert completed.type == completed.COMPLETED
    assert completed.chaincode_event.event_name == CLEARANCE_EVENT
    event = json.loads(completed.chaincode_event.payload)
    assert event["to_status"] == "pending" and event["organisation"] == "LTOMSP"
    assert event["timestamp"] == "2026-09-21T14:13:20Z"


def test_a_refused_transaction_carries_no_event():
    async def test(peer):
        return await peer.invoke(
            "UpdateClearanceStatus", "c1", VIN, "HPG", "", "pending", "ch1", ACTOR, "", msp_id="X"
        )

    response, completed = run(with_peer(test))
    assert response.status == 500 and not completed.HasField("chaincode_event")


def test_the_library_still_drops_the_event():
    response, completed = run(with_peer(open_clearance, fixed=False))
    assert response.status == 200 and not completed.HasField("chaincode_event")


# (b) concurrent writes -------------------------------------------------------------------

CONCURRENT = 60


async def many_at_once(peer: ScriptedPeer) -> list[Any]:
    calls = [open_clearance(peer, f"c{n}", f"ch{n}") for n in range(CONCURRENT)]
    return await asyncio.gather(*calls)


def test_concurrent_transactions_on_one_stream_all_complete():
    results = run(with_peer(many_at_once))
    assert [response.status for response, _ in results] == [200] * CONCURRENT


def test_the_library_still_loses_transactions_under_concurrent_writes():
    # grpc.aio refuses a second write in flight; the shim's task dies and the peer never hears.
    with pytest.raises(TimeoutError):
        run(with_peer(many_at_once, fixed=False), timeout=5)


# (c) peer errors on state calls ----------------------------------------------------------


async def failing_write(peer: ScriptedPeer) -> Any:
    peer.failing_puts.add("clearance:c1")
    return await open_clearance(peer)


async def failing_read(peer: ScriptedPeer) -> Any:
    peer.failing_gets.add("change:ch1")
    return await open_clearance(peer)


def test_a_peer_error_on_put_state_fails_the_transaction():
    response, _ = run(with_peer(failing_write))
    assert response.status == 500
    assert "PutState failed on the peer: could not write clearance:c1" in response.message


def test_a_peer_error_on_get_state_fails_the_transaction_with_the_peers_message():
    response, _ = run(with_peer(failing_read))
    assert response.status == 500
    assert "GetState failed on the peer: could not read change:ch1" in response.message


def test_the_library_still_takes_a_failed_put_state_for_success():
    response, _ = run(with_peer(failing_write, fixed=False))
    assert response.status == 200


# (d) empty keys --------------------------------------------------------------------------


class RecordingClient:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []

    async def handle_put_state(self, collection, key, value, channel_id, tx_id):
        self.calls.append(("put", key))

    async def handle_get_state(self, collection, key, channel_id, tx_id):
        self.calls.append(("get", key))
        return b""

    async def handle_delete_state(self, collection, key, channel_id, tx_id):
        self.calls.append(("delete", key))


def new_stub(stub_class: type, client: RecordingClient) -> Any:
    return stub_class(client, "clearance", "tx1", None, None)


@pytest.mark.parametrize(
    "call",
    [
        lambda stub: stub.get_state(""),
        lambda stub: stub.put_state("", b"x"),
        lambda stub: stub.delete_state(""),
        lambda stub: stub.get_history_for_key(""),
    ],
)
def test_the_stub_refuses_an_empty_key(call):
    client = RecordingClient()
    with pytest.raises(ValueError, match="key must not be an empty string"):
        asyncio.run(call(new_stub(fabric_shim_fixes.ChaincodeStub, client)))
    assert client.calls == []


def test_the_library_still_sends_an_empty_key_to_the_peer():
    client = RecordingClient()
    asyncio.run(new_stub(shim_stub.ChaincodeStub, client).put_state("", b"x"))
    assert client.calls == [("put", "")]


def test_the_handler_uses_the_fixed_stub():
    assert fabric_shim_fixes.Handler.stub_class is fabric_shim_fixes.ChaincodeStub
    assert issubclass(fabric_shim_fixes.Handler, shim_handler.Handler)


# (e) logging -----------------------------------------------------------------------------


def library_record(level: int) -> logging.LogRecord:
    return LIBRARY_LOGGER.makeRecord(
        LIBRARY_LOGGER.name, level, shim_handler.__file__, 1, "-->> Look out!", (), None
    )


def test_the_library_chatter_is_dropped_but_its_errors_and_asyncio_records_pass():
    fabric_shim_fixes.quiet_library_logging()
    assert not LIBRARY_LOGGER.filter(library_record(logging.WARNING))
    assert LIBRARY_LOGGER.filter(library_record(logging.ERROR))
    own = LIBRARY_LOGGER.makeRecord(
        "asyncio", logging.WARNING, "/x/asyncio/base.py", 1, "", (), None
    )
    assert LIBRARY_LOGGER.filter(own)


# (f) identity ----------------------------------------------------------------------------


class CreatorStub:
    def __init__(self, pem: bytes, msp_id: str = "LTOMSP") -> None:
        self.creator = {"mspid": msp_id, "idBytes": pem}

    def get_creator(self) -> dict[str, Any]:
        return self.creator


OFFICER = name(
    (NameOID.COMMON_NAME, "officer1"),
    (NameOID.ORGANIZATIONAL_UNIT_NAME, "client"),
    (NameOID.ORGANIZATIONAL_UNIT_NAME, "lto"),
    (NameOID.ORGANIZATION_NAME, "Land Transportation Office"),
    (NameOID.COUNTRY_NAME, "PH"),
)


def decoded_id(identity: Any) -> str:
    return b64decode(identity.get_id()).decode()


def test_get_id_is_gos_x509_subject_and_issuer_in_pkix_order():
    pem, _, _ = certificate(OFFICER, LTO_CA)
    identity = fabric_shim_fixes.ClientIdentity(CreatorStub(pem))
    assert decoded_id(identity) == (
        "x509::CN=officer1,OU=client+OU=lto,O=Land Transportation Office,C=PH"
        "::CN=ca.lto.talaan.example,O=lto.talaan.example,L=Quezon City,ST=Metro Manila,C=PH"
    )


def test_get_id_escapes_like_go_and_puts_other_attributes_last_as_hex():
    subject = name(
        (NameOID.EMAIL_ADDRESS, "a@b.ph"),
        (NameOID.COMMON_NAME, "#Dela Cruz, Juan "),
        (NameOID.COUNTRY_NAME, "PH"),
        (ObjectIdentifier("0.9.2342.19200300.100.1.1"), "juan"),
    )
    pem, _, _ = certificate(subject, subject)
    dn = decoded_id(fabric_shim_fixes.ClientIdentity(CreatorStub(pem))).split("::")[1]
    # Go re-marshals unnamed values: "a@b.ph" is not printable (UTF8String, 0x0c), "juan" is
    # (PrintableString, 0x13); they come after the named types, the later one first.
    assert dn == (
        "CN=\\#Dela Cruz\\, Juan\\ ,C=PH,"
        "0.9.2342.19200300.100.1.1=#13046a75616e,1.2.840.113549.1.9.1=#0c06614062*".replace(
            "*", "2e7068"
        )
    )


def test_get_attribute_reads_the_fabric_ca_attribute_extension():
    attributes = {"hf.EnrollmentID": "officer1", "hf.Type": "client", "talaan.role": "officer"}
    pem, _, _ = certificate(OFFICER, LTO_CA, attributes=attributes)
    identity = fabric_shim_fixes.ClientIdentity(CreatorStub(pem))
    assert identity.get_attribute("talaan.role") == "officer"
    assert identity.get_attribute("hf.Type") == "client"
    assert identity.get_attribute("missing") is None
    assert identity.assert_attribute("hf.EnrollmentID")
    assert identity.assert_attribute_value("talaan.role", "officer")
    assert not identity.assert_attribute_value("talaan.role", "admin")
    assert identity.get_mspid() == "LTOMSP"


def test_an_identity_without_a_certificate_has_an_msp_but_no_id_or_attributes():
    identity = fabric_shim_fixes.ClientIdentity(CreatorStub(b""))
    assert identity.get_mspid() == "LTOMSP" and identity.get_attribute("hf.Type") is None
    with pytest.raises(ValueError, match="no certificate"):
        identity.get_id()


def test_the_library_still_answers_identity_wrongly():
    pem, _, _ = certificate(OFFICER, LTO_CA, attributes={"talaan.role": "officer"})
    identity = transaction_context.ClientIdentity(CreatorStub(pem))
    assert identity.get_attribute("talaan.role") is None
    assert not b64decode(identity.get_id()).startswith(b"x509::")


def test_the_contract_api_builds_the_fixed_identity_once_applied():
    from chaincode.shim import contract_chaincode

    fabric_shim_fixes.apply()
    assert contract_chaincode.ClientIdentity is fabric_shim_fixes.ClientIdentity


def test_a_transaction_through_the_shim_sees_the_creators_certificate():
    pem, _, _ = certificate(OFFICER, LTO_CA)

    async def test(peer):
        return await peer.invoke(
            "RegisterVehicle", VIN, "b" * 64, "r1", "e" * 64, msp_id="LTOMSP", certificate=pem
        )

    response, _ = run(with_peer(test))
    assert response.status == 200
    assert json.loads(response.payload)["registered_by"] == "LTOMSP"


# (g) async transactions ------------------------------------------------------------------


class SyncContract(Contract):
    Name = "sync"

    def Peek(self, ctx: Any, key: str) -> str:
        return "found" if ctx.get_stub().get_state(key) else "missing"


def test_the_talaan_contract_is_all_async():
    fabric_shim_fixes.check_transactions_are_async(TalaanContract())


def test_a_contract_with_a_plain_def_transaction_is_refused():
    with pytest.raises(TypeError, match="must be 'async def': Peek"):
        fabric_shim_fixes.check_transactions_are_async(SyncContract())


@pytest.mark.filterwarnings("ignore:coroutine .* was never awaited:RuntimeWarning")
def test_the_library_still_runs_a_plain_def_transaction_on_a_coroutine():
    class Stub:
        async def get_state(self, key: str) -> bytes:
            return b""

    class Ctx:
        def get_stub(self) -> Stub:
            return Stub()

    # The key is missing, yet the unawaited coroutine is truthy.
    assert SyncContract().Peek(Ctx(), "nothing-here") == "found"
