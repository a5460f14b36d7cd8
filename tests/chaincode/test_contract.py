"""The chaincode contract, run by the real contract API against an in-memory stub."""

from __future__ import annotations

import json
import logging
import subprocess
import sys

import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from chaincode.contract import (
    CLEARANCE_EVENT,
    DOCUMENT_EVENT,
    TRANSFER_EVENT,
    VEHICLE_DEREGISTERED_EVENT,
    VEHICLE_EVENT,
    new_chaincode,
)
from ledger.embedded import drive

VIN = "JTDBR32E720012345"
ACTOR = "a" * 64
OWNER = "e" * 64


class MemoryStub:
    """Just enough of the shim's stub, over a dict, committing writes like a peer would."""

    def __init__(self, state: dict[str, bytes], args: list[str], msp_id: str, tx_id: str):
        self.state, self.args, self.msp_id, self.tx_id = state, args, msp_id, tx_id
        self.writes: dict[str, bytes] = {}
        self.events: list[tuple[str, bytes]] = []

    def get_function_and_parameters(self):
        return self.args[0], self.args[1:]

    def get_txid(self):
        return self.tx_id

    def get_channel_id(self):
        return "clearance"

    def get_creator(self):
        return {"mspid": self.msp_id, "idBytes": b""}

    def get_tx_timestamp(self):
        stamp = Timestamp()
        stamp.seconds = 1_790_000_000
        return stamp

    async def get_state(self, key):
        return self.state.get(key, b"")

    async def put_state(self, key, value):
        self.writes[key] = value

    def set_event(self, name, payload):
        self.events.append((name, payload))


class Ledger:
    def __init__(self):
        self.chaincode = new_chaincode()
        self.state: dict[str, bytes] = {}
        self.count = 0

    def call(self, msp_id: str, *args: str):
        self.count += 1
        stub = MemoryStub(self.state, list(args), msp_id, f"tx{self.count}")
        response = drive(self.chaincode.invoke(stub))
        if response.status < 400:
            self.state.update(stub.writes)
        return response, stub

    def move(self, msp_id, clearance, kind, current, target, change_id, remarks=""):
        return self.call(
            msp_id,
            "UpdateClearanceStatus",
            clearance,
            VIN,
            kind,
            current,
            target,
            change_id,
            ACTOR,
            remarks,
        )


@pytest.fixture
def ledger():
    return Ledger()


def test_lto_opens_and_hpg_decides_an_hpg_clearance(ledger):
    opened, stub = ledger.move("LTOMSP", "c1", "HPG", "", "pending", "ch1")
    assert opened.status == 200
    assert stub.events[0][0] == CLEARANCE_EVENT
    assert ledger.move("HPGMSP", "c1", "HPG", "pending", "in_review", "ch2")[0].status == 200
    decided, stub = ledger.move("HPGMSP", "c1", "HPG", "in_review", "approved", "ch3")
    assert decided.status == 200
    event = json.loads(stub.events[0][1])
    assert event == {
        "clearance_id": "c1",
        "vin": VIN,
        "kind": "HPG",
        "from_status": "in_review",
        "to_status": "approved",
        "change_id": "ch3",
        "organisation": "HPGMSP",
        "timestamp": "2026-09-21T14:13:20Z",
    }
    record = json.loads(ledger.call("HPGMSP", "GetClearance", "c1")[0].payload)
    assert record["status"] == "approved"


def test_an_insurer_cannot_decide_an_hpg_clearance(ledger):
    ledger.move("LTOMSP", "c1", "HPG", "", "pending", "ch1")
    refused, stub = ledger.move("InsuranceMSP", "c1", "HPG", "pending", "in_review", "ch2")
    assert refused.status == 500
    assert "Only HPG may move a HPG clearance" in refused.message
    assert stub.writes == {} and stub.events == []


def test_only_the_lto_may_open_a_request(ledger):
    refused, _ = ledger.move("HPGMSP", "c1", "HPG", "", "pending", "ch1")
    assert refused.status == 500 and "Only LTO" in refused.message


def test_an_unknown_msp_is_refused(ledger):
    refused, _ = ledger.move("EvilMSP", "c1", "HPG", "", "pending", "ch1")
    assert refused.status == 500 and "no known organisation" in refused.message


def test_the_move_must_start_from_the_status_on_the_ledger(ledger):
    ledger.move("LTOMSP", "c1", "HPG", "", "pending", "ch1")
    refused, _ = ledger.move("HPGMSP", "c1", "HPG", "in_review", "approved", "ch2")
    assert refused.status == 500
    assert "is pending on the ledger, not in_review" in refused.message


def test_an_illegal_move_is_refused(ledger):
    ledger.move("LTOMSP", "c1", "HPG", "", "pending", "ch1")
    refused, _ = ledger.move("HPGMSP", "c1", "HPG", "pending", "approved", "ch2")
    assert refused.status == 500 and "cannot become approved" in refused.message


def test_the_same_change_id_is_recorded_once(ledger):
    first, _ = ledger.move("LTOMSP", "c1", "HPG", "", "pending", "ch1")
    again, stub = ledger.move("LTOMSP", "c1", "HPG", "", "pending", "ch1")
    assert again.status == 200
    assert json.loads(again.payload)["replayed"] is True
    assert json.loads(again.payload)["tx_id"] == json.loads(first.payload)["tx_id"]
    assert stub.writes == {} and stub.events == []


def test_malformed_arguments_are_refused(ledger):
    bad_vin, _ = ledger.call(
        "LTOMSP",
        "UpdateClearanceStatus",
        "c1",
        "JTDBR32E72001234O",
        "HPG",
        "",
        "pending",
        "ch1",
        ACTOR,
        "",
    )
    assert bad_vin.status == 500 and "VIN" in bad_vin.message
    empty_id, _ = ledger.move("LTOMSP", "", "HPG", "", "pending", "ch1")
    assert empty_id.status == 500 and "Clearance id" in empty_id.message
    free_text, _ = ledger.move("LTOMSP", "c1", "HPG", "", "pending", "ch1", "Juan's car")
    assert free_text.status == 500 and "Remarks digest" in free_text.message


def test_only_the_lto_registers_vehicles_and_history_comes_from_key_history(ledger):
    refused, _ = ledger.call("HPGMSP", "RegisterVehicle", VIN, "b" * 64, "r1", OWNER)
    assert refused.status == 500 and "Only the LTO registers vehicles" in refused.message
    registered, _ = ledger.call("LTOMSP", "RegisterVehicle", VIN, "b" * 64, "r1", OWNER)
    assert registered.status == 200
    vehicle = json.loads(ledger.call("LTOMSP", "GetVehicle", VIN)[0].payload)
    assert vehicle["record_digest"] == "b" * 64 and vehicle["registered_by"] == "LTOMSP"


def test_documents_are_anchored_once_by_digest(ledger):
    args = ["RecordDocument", "doc1", VIN, "sales_invoice", "c" * 64, "", "d1"]
    assert ledger.call("LTOMSP", *args)[0].status == 200
    again, _ = ledger.call("LTOMSP", *args[:-1], "d2")
    assert again.status == 500 and "already anchored" in again.message


def test_registrations_and_anchors_emit_an_event_naming_their_change(ledger):
    _, registered = ledger.call("LTOMSP", "RegisterVehicle", VIN, "b" * 64, "r1", OWNER)
    _, anchored = ledger.call(
        "LTOMSP", "RecordDocument", "doc1", VIN, "sales_invoice", "c" * 64, "", "d1"
    )
    replay, replayed = ledger.call("LTOMSP", "RegisterVehicle", VIN, "b" * 64, "r1", OWNER)

    assert registered.events[0][0] == VEHICLE_EVENT
    assert json.loads(registered.events[0][1]) == {
        "vin": VIN,
        "change_id": "r1",
        "timestamp": "2026-09-21T14:13:20Z",
    }
    assert anchored.events[0][0] == DOCUMENT_EVENT
    assert json.loads(anchored.events[0][1])["change_id"] == "d1"
    assert replay.status == 200 and replayed.events == []  # a replay commits nothing new


def test_only_the_lto_transfers_and_a_registration_cannot_change_the_owner(ledger):
    buyer = "f" * 64
    ledger.call("LTOMSP", "RegisterVehicle", VIN, "b" * 64, "r1", OWNER)

    forged, _ = ledger.call("HPGMSP", "TransferOwnership", VIN, OWNER, buyer, "t1")
    by_registration, _ = ledger.call("LTOMSP", "RegisterVehicle", VIN, "c" * 64, "r2", buyer)
    transferred, stub = ledger.call("LTOMSP", "TransferOwnership", VIN, OWNER, buyer, "t1")
    registered, _ = ledger.call("LTOMSP", "RegisterVehicle", VIN, "c" * 64, "r2", buyer)

    assert forged.status == 500 and "Only the LTO records a change of owner" in forged.message
    assert by_registration.status == 500 and "TransferOwnership" in by_registration.message
    assert transferred.status == 200 and registered.status == 200
    assert stub.events[0][0] == TRANSFER_EVENT
    assert json.loads(stub.events[0][1])["change_id"] == "t1"
    change = json.loads(ledger.state["change:t1"])
    assert change["type"] == "transfer" and change["msp_id"] == "LTOMSP"
    assert (change["from_owner"], change["to_owner"]) == (OWNER, buyer)
    assert json.loads(ledger.state[f"vehicle:{VIN}"])["owner"] == buyer


def test_a_deregistration_emits_its_event_and_keeps_only_codes_and_digests(ledger):
    ledger.call("LTOMSP", "RegisterVehicle", VIN, "b" * 64, "r1", OWNER)

    deregistered, stub = ledger.call(
        "LTOMSP", "DeregisterVehicle", VIN, "total_loss", "d" * 64, "x1"
    )

    assert deregistered.status == 200
    assert stub.events[0][0] == VEHICLE_DEREGISTERED_EVENT
    assert json.loads(stub.events[0][1])["change_id"] == "x1"
    change = json.loads(ledger.state["change:x1"])
    assert change["type"] == "deregistration" and change["evidence_digest"] == "d" * 64
    assert set(change) == {
        "vin",
        "reason",
        "evidence_digest",
        "msp_id",
        "change_id",
        "tx_id",
        "timestamp",
        "type",
    }


def test_nothing_personal_is_written(ledger):
    ledger.move("LTOMSP", "c1", "HPG", "", "pending", "ch1", "d" * 64)
    written = b" ".join(ledger.state.values()).decode()
    for field in json.loads(ledger.state["clearance:c1"]):
        assert field in {
            "clearance_id",
            "vin",
            "kind",
            "status",
            "change_id",
            "actor_id",
            "msp_id",
            "remarks_digest",
            "tx_id",
            "timestamp",
        }
    assert "Juan" not in written


def test_importing_the_chaincode_leaves_the_root_logger_alone():
    code = (
        "import logging; logging.getLogger().setLevel(logging.WARNING);"
        "import chaincode.contract;"
        "print(logging.getLogger().level, len(logging.getLogger().handlers))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd="."
    )
    assert result.stdout.split() == [str(logging.WARNING), "0"]
