"""Chattel mortgages through the real shim over gRPC: the lender is the one its certificate
names, and only that lender releases its mortgage or consents to a transfer."""

from __future__ import annotations

import json

import pytest

from tests.chaincode.member_certs import certificate, run_signed

VIN = "JTDBR32E720012345"
OWNER = "a" * 64
CONSENT = "c" * 64
BDO = certificate("LenderMSP", {"talaan.lender": "banco-de-oro"})
BPI = certificate("LenderMSP", {"talaan.lender": "bpi-family"})
NO_LENDER = certificate("LenderMSP", {"hf.Affiliation": "lenders"})
DEALER_AS_LENDER = certificate("DealerMSP", {"talaan.lender": "banco-de-oro"})
REGISTER = ("LTOMSP", b"", ("RegisterVehicle", VIN, "d" * 64, "r1", OWNER))
ANNOTATE = ("LenderMSP", BDO, ("AnnotateMortgage", "m1", VIN, CONSENT, "a1"))


def test_a_lender_annotates_and_only_the_same_lender_releases():
    _, annotated, encumbrance, other, released, after = run_signed(
        REGISTER,
        ANNOTATE,
        ("LTOMSP", b"", ("GetEncumbrance", VIN)),
        ("LenderMSP", BPI, ("ReleaseMortgage", "m1", "x1")),
        ("LenderMSP", BDO, ("ReleaseMortgage", "m1", "x2")),
        ("LTOMSP", b"", ("GetEncumbrance", VIN)),
    )
    assert annotated.status == 200, annotated.message
    assert json.loads(encumbrance.payload) == {
        "vin": VIN,
        "mortgage_id": "m1",
        "lender": "banco-de-oro",
    }
    assert other.status == 500
    assert (
        "Only banco-de-oro, which annotated mortgage m1, releases it; bpi-family cannot"
        in other.message
    )
    assert released.status == 200, released.message
    assert "is not on the ledger" in after.message


@pytest.mark.parametrize(
    ("msp", "cert", "message"),
    [
        ("LenderMSP", NO_LENDER, "names no lender (attribute talaan.lender)"),
        ("DealerMSP", DEALER_AS_LENDER, "Only a lender annotates a chattel mortgage"),
        ("LTOMSP", b"", "Only a lender annotates"),
    ],
)
def test_a_mortgage_needs_a_lenders_identity(msp, cert, message):
    _, refused, encumbrance = run_signed(
        REGISTER,
        (msp, cert, ("AnnotateMortgage", "m1", VIN, CONSENT, "a1")),
        ("LTOMSP", b"", ("GetEncumbrance", VIN)),
    )
    assert refused.status == 500 and message in refused.message
    assert "is not on the ledger" in encumbrance.message


def test_one_mortgage_at_a_time_on_a_registered_vehicle_only():
    unregistered, _, _, second = run_signed(
        ANNOTATE,
        REGISTER,
        ANNOTATE,
        ("LenderMSP", BPI, ("AnnotateMortgage", "m2", VIN, CONSENT, "a2")),
    )
    assert "is not a registered vehicle on the ledger" in unregistered.message
    assert "already carries an active mortgage" in second.message


def lender_decision(cert: bytes, change: str, current: str, target: str):
    return (
        "LenderMSP",
        cert,
        ("UpdateClearanceStatus", "k1", VIN, "LENDER", current, target, change, OWNER, ""),
    )


def test_only_the_mortgage_holder_decides_the_lender_clearance():
    answers = run_signed(
        REGISTER,
        ANNOTATE,
        (
            "LTOMSP",
            b"",
            ("UpdateClearanceStatus", "k1", VIN, "LENDER", "", "pending", "k0", OWNER, ""),
        ),
        lender_decision(BPI, "k1", "pending", "in_review"),
        lender_decision(BDO, "k2", "pending", "in_review"),
        lender_decision(BDO, "k3", "in_review", "approved"),
    )
    *_, other, claimed, approved = answers
    assert other.status == 500
    assert "Only the lender holding the mortgage on vehicle" in other.message
    assert claimed.status == 200 and approved.status == 200, approved.message
    assert json.loads(approved.payload)["member"] == "banco-de-oro"
