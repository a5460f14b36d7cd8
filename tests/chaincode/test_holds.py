"""Holds ("alarms") through the real shim over gRPC: placed by the organisation the reason
belongs to, lifted only by the one that placed it, and blocking what a held vehicle may not do."""

from __future__ import annotations

import json

import pytest

from tests.chaincode.member_certs import run_signed

VIN = "JTDBR32E720012345"
EVIDENCE = "e" * 64
OWNER, BUYER = "a" * 64, "b" * 64
REGISTER = ("LTOMSP", b"", ("RegisterVehicle", VIN, "d" * 64, "r1", OWNER))
STOLEN = ("HPGMSP", b"", ("PlaceHold", "h1", VIN, "stolen", EVIDENCE, "p1"))


def test_hpg_places_a_stolen_hold_and_only_hpg_lifts_it():
    placed, by_lto, lifted, again, holds = run_signed(
        STOLEN,
        ("LTOMSP", b"", ("LiftHold", "h1", EVIDENCE, "l0")),
        ("HPGMSP", b"", ("LiftHold", "h1", "f" * 64, "l1")),
        ("HPGMSP", b"", ("LiftHold", "h1", "f" * 64, "l2")),
        ("LTOMSP", b"", ("GetHolds", VIN)),
    )
    assert placed.status == 200, placed.message
    assert json.loads(placed.payload)["msp_id"] == "HPGMSP"
    assert by_lto.status == 500 and "Only HPGMSP, which placed hold h1, lifts it" in by_lto.message
    assert lifted.status == 200, lifted.message
    assert "already lifted" in again.message
    assert json.loads(holds.payload)["active"] == []


@pytest.mark.parametrize(
    ("msp", "reason", "message"),
    [
        ("LTOMSP", "stolen", "Only HPG places a stolen hold; LTOMSP cannot"),
        ("HPGMSP", "court_order", "Only LTO places a court order hold; HPGMSP cannot"),
        ("InsuranceMSP", "violation", "Only LTO places a violation hold"),
        ("LTOMSP", "parking", "Hold reason 'parking' is not valid"),
    ],
)
def test_a_hold_is_placed_only_by_the_kind_its_reason_belongs_to(msp, reason, message):
    refused, holds = run_signed(
        (msp, b"", ("PlaceHold", "h1", VIN, reason, EVIDENCE, "p1")),
        ("LTOMSP", b"", ("GetHolds", VIN)),
    )
    assert refused.status == 500 and message in refused.message
    assert json.loads(holds.payload)["active"] == []


def test_a_held_vehicle_is_not_renewed_transferred_deregistered_or_cleared():
    answers = run_signed(
        REGISTER,
        STOLEN,
        ("LTOMSP", b"", ("RegisterVehicle", VIN, "d" * 64, "r2", OWNER)),
        ("LTOMSP", b"", ("TransferOwnership", VIN, OWNER, BUYER, "t1")),
        ("LTOMSP", b"", ("DeregisterVehicle", VIN, "scrapped", EVIDENCE, "x1")),
        (
            "LTOMSP",
            b"",
            ("UpdateClearanceStatus", "c1", VIN, "EMISSION", "", "pending", "c1", OWNER, ""),
        ),
        (
            "EmissionMSP",
            b"",
            (
                "UpdateClearanceStatus",
                "c1",
                VIN,
                "EMISSION",
                "pending",
                "in_review",
                "c2",
                OWNER,
                "",
            ),
        ),
        (
            "EmissionMSP",
            b"",
            (
                "UpdateClearanceStatus",
                "c1",
                VIN,
                "EMISSION",
                "in_review",
                "approved",
                "c3",
                OWNER,
                "",
            ),
        ),
        ("HPGMSP", b"", ("LiftHold", "h1", EVIDENCE, "l1")),
        ("LTOMSP", b"", ("TransferOwnership", VIN, OWNER, BUYER, "t1")),
    )
    _, _, renewal, transfer, deregistration, opened, claimed, approval, _, after = answers
    for refused, doing in [
        (renewal, "registered or renewed"),
        (transfer, "transferred"),
        (deregistration, "deregistered"),
        (approval, "cleared"),
    ]:
        assert refused.status == 500
        assert f"is on hold (h1); it cannot be {doing}" in refused.message
    assert opened.status == claimed.status == 200
    assert after.status == 200, after.message
