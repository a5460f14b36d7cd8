"""A deregistration on the Fabric test peer: signed by the LTO's MSP, refused from any other,
final for the chaincode (no later registration of the VIN), confirmed by the listener, and held
against the database by reconcile_ledger (whose --repair says why it cannot write a lost one
back, and the LTO's retry is answered from the ledger's change)."""

from __future__ import annotations

import json
from io import StringIO
from unittest import mock

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from ledger import get_ledger
from ledger.base import VehicleDeregistration, VehicleRegistration, owner_pseudonym
from ledger.exceptions import LedgerRejected
from registry.deregistration import deregistration_change_id, vehicle_deregister
from registry.models import Certificate, Deregistration
from tests.fabric.test_transfer import database_fails_after, reconcile
from tests.transfers import PDF, registered

OTHER_PDF = PDF.replace(b"1 0 obj", b"2 0 obj")


def deregister(world, vehicle, content: bytes = PDF) -> Deregistration:  # type: ignore[no-untyped-def]
    return vehicle_deregister(
        vehicle_id=vehicle.pk,
        actor=world.lto_admin,
        reason="scrapped",
        evidence=SimpleUploadedFile("scrapping.pdf", content),
        note="Certificate of scrapping from the yard.",
    )


def test_the_deregistration_is_signed_by_the_lto_s_msp_and_is_final_on_the_ledger(world, fabric):
    vehicle = registered(world)

    deregistration = deregister(world, vehicle)

    [tx] = [tx for tx in fabric.committed() if tx.tx_id == deregistration.ledger_tx_id]
    change = json.loads(tx.writes[f"change:{deregistration.ledger_change_id}"] or b"{}")
    on_ledger = json.loads(fabric.state_json(f"vehicle:{vehicle.vin}") or b"{}")
    assert tx.creator_msp == "LTOMSP" and tx.event is not None
    assert tx.event.event_name == "VehicleDeregistered"
    assert change["reason"] == "scrapped"
    assert change["evidence_digest"] == deregistration.evidence.sha256
    assert on_ledger["state"] == "deregistered"
    with pytest.raises(LedgerRejected, match="deregistered VIN is never registered again"):
        get_ledger().register_vehicle(
            VehicleRegistration(
                vin=vehicle.vin,
                record_digest="b" * 64,
                change_id="register-again",
                owner=owner_pseudonym(vehicle.vin, world.other_owner.pk),
                signer_msp="LTOMSP",
            )
        )
    output, error = reconcile()
    assert error is None, output


def test_a_deregistration_forged_by_another_msp_is_refused_and_nothing_is_saved(world, fabric):
    vehicle = registered(world)
    committed_before = len(fabric.committed())
    forged = VehicleDeregistration(
        vin=vehicle.vin,
        reason="exported",
        evidence_digest="d" * 64,
        change_id="forged-deregistration",
        signer_msp="HPGMSP",
    )

    with pytest.raises(LedgerRejected, match="Only the LTO deregisters vehicles"):
        get_ledger().deregister_vehicle(forged)

    assert len(fabric.committed()) == committed_before
    assert fabric.state_json("change:forged-deregistration") is None
    assert "state" not in json.loads(fabric.state_json(f"vehicle:{vehicle.vin}") or b"{}")


def test_the_listener_confirms_the_deregistration_s_receipt(world, fabric):
    deregistration = deregister(world, registered(world))
    assert deregistration.ledger_confirmed_at is None

    with mock.patch("notifications.live._enqueue_push"):
        call_command("ledger_listen", "--idle-seconds", "0.5", stdout=StringIO())

    deregistration.refresh_from_db()
    assert deregistration.ledger_confirmed_at is not None
    assert deregistration.ledger_block is not None


def test_reconcile_reports_a_deregistration_the_database_lacks_or_disagrees_with(world, fabric):
    deregistration = deregister(world, registered(world))
    change_id = str(deregistration.ledger_change_id)
    Deregistration.objects.filter(pk=deregistration.pk).update(reason="exported")

    output, error = reconcile()

    assert error is not None
    assert "differs from its ledger deregistration in reason" in output

    Deregistration.objects.filter(pk=deregistration.pk).delete()
    output, error = reconcile("--repair")

    assert error is not None
    assert f"ledger change {change_id}: has no history row" in output
    assert f"NOT REPAIRED: ledger change {change_id}: vehicle" in output
    assert "deregistration evidence was discarded" in output


def test_a_deregistration_the_database_lost_is_answered_from_the_ledger_on_retry(world, fabric):
    vehicle = registered(world)
    with database_fails_after(2) as committed:  # the evidence's anchor, then the deregistration
        deregister(world, vehicle)
    assert committed[1] == str(deregistration_change_id(vehicle.vin))
    assert Certificate.objects.get(vehicle=vehicle).status == "valid"

    committed_before = len(fabric.committed())
    with pytest.raises(ValidationError, match="with another evidence digest"):
        deregister(world, vehicle, content=OTHER_PDF)
    assert not Deregistration.objects.exists()
    assert len(fabric.committed()) == committed_before  # not even the evidence's anchor

    deregistration = deregister(world, vehicle)

    assert str(deregistration.ledger_change_id) == committed[1]
    assert deregistration.ledger_tx_id == get_ledger().get_change(committed[1])["tx_id"]
    assert Certificate.objects.get(vehicle=vehicle).status == "revoked"
    output, _ = reconcile()
    assert f"deregistration of vehicle {vehicle.vin}" not in output
