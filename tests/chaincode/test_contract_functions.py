"""Every contract function and its refusals, through the real shim over gRPC (with the fixes)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import grpc
import pytest

from tests.chaincode.shim_peer import ScriptedPeer, start_server

VIN = "JTDBR32E720012345"
OTHER_VIN = "1HGCM82633A004352"
ACTOR = "a" * 64
OWNER = "e" * 64


def run_calls(*calls: tuple[str, tuple[str, ...]]) -> list[Any]:
    """Run the calls in order on one connection: (msp id, args) each; return the responses."""

    async def scenario() -> list[Any]:
        server, address = await start_server()
        try:
            async with grpc.aio.insecure_channel(address) as ch, ScriptedPeer(ch) as peer:
                return [(await peer.invoke(*args, msp_id=msp))[0] for msp, args in calls]
        finally:
            await server.stop(0)

    return asyncio.run(asyncio.wait_for(scenario(), 20))


def move(clearance: str, kind: str, current: str, target: str, change: str, vin: str = VIN):
    return ("UpdateClearanceStatus", clearance, vin, kind, current, target, change, ACTOR, "")


REGISTER = ("LTOMSP", ("RegisterVehicle", VIN, "b" * 64, "r1", OWNER))


def test_get_vehicle_history_comes_from_the_peers_key_history():
    *_, history = run_calls(REGISTER, ("HPGMSP", ("GetVehicleHistory", VIN)))
    assert history.status == 200
    body = json.loads(history.payload)
    assert body["vin"] == VIN
    assert [entry["value"]["record_digest"] for entry in body["history"]] == ["b" * 64]
    assert body["history"][0]["is_delete"] is False


def test_a_vehicle_never_registered_has_an_empty_history_and_no_record():
    history, vehicle = run_calls(
        ("LTOMSP", ("GetVehicleHistory", VIN)), ("LTOMSP", ("GetVehicle", VIN))
    )
    assert json.loads(history.payload)["history"] == []
    assert vehicle.status == 500 and "is not on the ledger" in vehicle.message


def test_register_vehicle_is_idempotent_by_change_id():
    first, again = run_calls(REGISTER, REGISTER)
    assert json.loads(again.payload)["replayed"] is True
    assert json.loads(again.payload)["tx_id"] == json.loads(first.payload)["tx_id"]


def test_get_change_returns_what_was_recorded_and_refuses_an_unknown_change():
    _, change, unknown = run_calls(
        ("LTOMSP", move("c1", "EMISSION", "", "pending", "ch1")),
        ("EmissionMSP", ("GetChange", "ch1")),
        ("EmissionMSP", ("GetChange", "nope")),
    )
    recorded = json.loads(change.payload)
    assert recorded["type"] == "clearance" and recorded["status"] == "pending"
    assert unknown.status == 500 and "Change nope is not on the ledger" in unknown.message


def test_get_clearance_refuses_an_unknown_or_malformed_id():
    unknown, malformed = run_calls(
        ("LTOMSP", ("GetClearance", "c9")), ("LTOMSP", ("GetClearance", "bad id"))
    )
    assert "Clearance c9 is not on the ledger" in unknown.message
    assert "Clearance id 'bad id' is not valid" in malformed.message


def test_a_clearance_cannot_be_moved_for_another_vehicle_or_kind():
    _, other_vin, other_kind = run_calls(
        ("LTOMSP", move("c1", "HPG", "", "pending", "ch1")),
        ("LTOMSP", move("c1", "HPG", "pending", "cancelled", "ch2", vin=OTHER_VIN)),
        ("LTOMSP", move("c1", "EMISSION", "pending", "cancelled", "ch3")),
    )
    for refused in (other_vin, other_kind):
        assert refused.status == 500 and "belongs to another vehicle or kind" in refused.message


def test_an_unknown_clearance_kind_is_refused():
    (refused,) = run_calls(("LTOMSP", move("c1", "LTO", "", "pending", "ch1")))
    assert refused.status == 500 and "Unknown clearance kind 'LTO'" in refused.message


def test_the_full_insurance_path_and_a_return_and_resubmission():
    responses = run_calls(
        ("LTOMSP", move("c1", "INSURANCE", "", "pending", "ch1")),
        ("InsuranceMSP", move("c1", "INSURANCE", "pending", "in_review", "ch2")),
        ("InsuranceMSP", move("c1", "INSURANCE", "in_review", "returned", "ch3")),
        ("LTOMSP", move("c1", "INSURANCE", "returned", "pending", "ch4")),
        ("InsuranceMSP", move("c1", "INSURANCE", "pending", "in_review", "ch5")),
        ("InsuranceMSP", move("c1", "INSURANCE", "in_review", "approved", "ch6")),
        ("InsuranceMSP", move("c1", "INSURANCE", "approved", "rejected", "ch7")),
    )
    assert [r.status for r in responses] == [200] * 6 + [500]
    assert "cannot become rejected" in responses[-1].message


@pytest.mark.parametrize(
    "msp,args,message",
    [
        ("UnknownMSP", ("RecordDocument", "doc1", VIN, "or_cr", "c" * 64, "", "d1"), "not a"),
        ("LTOMSP", ("RecordDocument", "doc1", VIN, "OR CR", "c" * 64, "", "d1"), "Document type"),
        ("LTOMSP", ("RecordDocument", "doc1", VIN, "or_cr", "not-hex", "", "d1"), "SHA-256"),
        ("LTOMSP", ("RecordDocument", "doc1", VIN, "or_cr", "c" * 64, "Qm/x", "d1"), "Content id"),
        ("LTOMSP", ("RegisterVehicle", VIN, "short", "r1", OWNER), "Record digest"),
        ("LTOMSP", ("RegisterVehicle", "SHORTVIN", "b" * 64, "r1", OWNER), "VIN"),
        ("LTOMSP", ("GetVehicleHistory", "SHORTVIN"), "VIN"),
        ("LTOMSP", ("NoSuchFunction",), "not found"),
        ("LTOMSP", ("RegisterVehicle", VIN), "incorrect number of params"),
        ("LTOMSP", ("RegisterVehicle", VIN, "b" * 64, "r1", "Juan"), "Owner pseudonym"),
        ("LTOMSP", ("TransferOwnership", VIN, OWNER, "Juan", "t1"), "Buyer's pseudonym"),
        ("LTOMSP", ("TransferOwnership", VIN, OWNER, "f" * 64, "t1"), "is not registered"),
        ("InsuranceMSP", ("TransferOwnership", VIN, OWNER, "f" * 64, "t1"), "Only the LTO"),
        ("HPGMSP", ("DeregisterVehicle", VIN, "scrapped", "d" * 64, "x1"), "Only the LTO"),
        ("LTOMSP", ("DeregisterVehicle", VIN, "stolen", "d" * 64, "x1"), "reason 'stolen'"),
        ("LTOMSP", ("DeregisterVehicle", VIN, "scrapped", "nothex", "x1"), "Evidence digest"),
        ("LTOMSP", ("DeregisterVehicle", VIN, "scrapped", "d" * 64, "x1"), "is not registered"),
    ],
)
def test_malformed_or_unauthorised_calls_are_refused_with_a_reason(msp, args, message):
    (refused,) = run_calls((msp, args))
    assert refused.status == 500 and message in refused.message


def test_every_organisation_may_anchor_a_document_and_it_records_who_did():
    (anchored,) = run_calls(
        ("HPGMSP", ("RecordDocument", "doc1", VIN, "stencil", "c" * 64, "bafy1", "d1"))
    )
    record = json.loads(anchored.payload)
    assert record["msp_id"] == "HPGMSP" and record["cid"] == "bafy1"


def test_a_transfer_moves_the_owner_the_ledger_holds_once_and_only_from_it():
    buyer, stranger = "f" * 64, "9" * 64
    transfer = ("LTOMSP", ("TransferOwnership", VIN, OWNER, buyer, "t1"))
    moved, again, from_stranger, vehicle = run_calls(
        REGISTER,
        transfer,
        transfer,
        ("LTOMSP", ("TransferOwnership", VIN, OWNER, stranger, "t2")),
        ("LTOMSP", ("GetVehicle", VIN)),
    )[1:]
    assert moved.status == 200 and json.loads(moved.payload)["msp_id"] == "LTOMSP"
    assert json.loads(again.payload)["replayed"] is True
    assert from_stranger.status == 500 and "not the seller" in from_stranger.message
    assert json.loads(vehicle.payload)["owner"] == buyer


DEREGISTER = ("LTOMSP", ("DeregisterVehicle", VIN, "scrapped", "d" * 64, "x1"))


def test_a_deregistered_vin_is_never_registered_again_by_the_chaincode_itself():
    deregistered, again, second, registration, transfer, vehicle = run_calls(
        REGISTER,
        DEREGISTER,
        DEREGISTER,
        ("LTOMSP", ("DeregisterVehicle", VIN, "exported", "d" * 64, "x2")),
        ("LTOMSP", ("RegisterVehicle", VIN, "c" * 64, "r2", OWNER)),
        ("LTOMSP", ("TransferOwnership", VIN, OWNER, "f" * 64, "t1")),
        ("LTOMSP", ("GetVehicle", VIN)),
    )[1:]

    assert deregistered.status == 200
    recorded = json.loads(deregistered.payload)
    assert (recorded["reason"], recorded["msp_id"]) == ("scrapped", "LTOMSP")
    assert json.loads(again.payload)["replayed"] is True
    assert second.status == 500 and "already deregistered" in second.message
    assert registration.status == 500
    assert "deregistered VIN is never registered again" in registration.message
    assert transfer.status == 500 and "deregistered" in transfer.message
    on_ledger = json.loads(vehicle.payload)
    assert on_ledger["state"] == "deregistered" and on_ledger["deregistered_reason"] == "scrapped"


def test_a_deregistration_forged_by_another_msp_changes_nothing():
    forged, vehicle = run_calls(
        REGISTER,
        ("InsuranceMSP", ("DeregisterVehicle", VIN, "total_loss", "d" * 64, "x1")),
        ("LTOMSP", ("GetVehicle", VIN)),
    )[1:]

    assert forged.status == 500 and "Only the LTO deregisters vehicles" in forged.message
    assert "state" not in json.loads(vehicle.payload)
