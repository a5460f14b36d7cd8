"""Holds on the Fabric test peer: HPG's stolen hold is signed by HPGMSP, the LTO's attempt to
lift it is refused by the service and, bypassing the service, by the chaincode; the listener
confirms the placing and the lifting; reconcile_ledger reports a lifting the database lost
(NOT REPAIRED, saying why) and the office's retry is answered from the ledger's change."""

from __future__ import annotations

import json
from io import StringIO
from unittest import mock

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import transaction

from kernel.errors import PermissionDenied
from ledger.exceptions import LedgerRejected
from registry.holds import hold_lift, lift_as, lift_change_id
from registry.models import Hold
from tests.fabric.test_transfer import database_fails_after, reconcile
from tests.registry.test_holds import lift, place_stolen
from tests.transfers import PDF, registered

OTHER_PDF = PDF.replace(b"1 0 obj", b"2 0 obj")


def test_hpg_s_hold_is_signed_by_hpgmsp_and_only_hpg_lifts_it(world, fabric):
    vehicle = registered(world)
    hold = place_stolen(world, vehicle.vin)

    [tx] = [tx for tx in fabric.committed() if tx.tx_id == hold.ledger_tx_id]
    assert tx.creator_msp == "HPGMSP" and tx.event is not None
    assert tx.event.event_name == "HoldPlaced"
    with pytest.raises(PermissionDenied, match="Only PNP-HPG, which placed hold"):
        lift(world, hold, officer=world.lto_admin)
    lifted = lift(world, hold)

    [tx] = [tx for tx in fabric.committed() if tx.tx_id == lifted.lift_ledger_tx_id]
    assert tx.creator_msp == "HPGMSP" and tx.event.event_name == "HoldLifted"
    output, error = reconcile()
    assert error is None, output


def test_the_chaincode_refuses_the_lto_lifting_hpg_s_hold_when_the_service_is_bypassed(
    world, fabric
):
    vehicle = registered(world)
    hold = place_stolen(world, vehicle.vin)

    committed_before = len(fabric.committed())
    with (
        pytest.raises(LedgerRejected, match="Only HPGMSP, which placed hold"),
        transaction.atomic(),
    ):
        lift_as(
            Hold.objects.select_for_update().get(pk=hold.pk),
            office=world.lto,
            officer=world.lto_admin,
            evidence=SimpleUploadedFile("lto.pdf", OTHER_PDF),
            note="Not ours.",
        )
    # No lifting committed (the anchor of its evidence did: the service's own check, which
    # comes first, is what keeps such anchors from being written).
    assert not [
        t
        for t in fabric.committed()[committed_before:]
        if t.creator_msp == "LTOMSP" and t.event is not None and t.event.event_name == "HoldLifted"
    ]
    assert json.loads(fabric.state_json(f"holds:{vehicle.vin}") or b"{}")["active"] == [
        hold.reference
    ]

    hold.refresh_from_db()
    assert hold.status == "active"


def test_the_listener_confirms_the_placing_and_the_lifting(world, fabric):
    hold = lift(world, place_stolen(world, registered(world).vin))
    assert hold.ledger_confirmed_at is None and hold.lift_ledger_confirmed_at is None

    with mock.patch("notifications.live._enqueue_push"):
        call_command("ledger_listen", "--idle-seconds", "0.5", stdout=StringIO())

    hold.refresh_from_db()
    assert hold.ledger_confirmed_at is not None and hold.lift_ledger_confirmed_at is not None


def test_a_lifting_the_database_lost_is_reported_and_answered_from_the_ledger_on_retry(
    world, fabric
):
    hold = place_stolen(world, registered(world).vin)
    with database_fails_after(2) as committed:  # the evidence's anchor, then the lifting
        lift(world, hold)
    assert committed[1] == str(lift_change_id(hold.reference))
    hold.refresh_from_db()
    assert hold.status == "active"

    output, error = reconcile("--repair")
    assert error is not None
    assert f"hold {hold.reference}: is active in the database but lifted on the ledger" in output
    assert f"NOT REPAIRED: ledger change {committed[1]}: hold {hold.reference}" in output
    assert "lifts it again with the same evidence file" in output

    with pytest.raises(ValidationError, match="with another evidence file"):
        hold_lift(
            officer=world.hpg_officer,
            hold_id=hold.pk,
            evidence=SimpleUploadedFile("other.pdf", OTHER_PDF),
            note="Recovered.",
        )
    lifted = hold_lift(
        officer=world.hpg_officer,
        hold_id=hold.pk,
        evidence=SimpleUploadedFile("recovery-report.pdf", PDF),
        note="Recovered.",
    )
    assert lifted.status == "lifted" and str(lifted.lift_change_id) == committed[1]
    output, error = reconcile()
    assert f"hold {hold.reference}" not in output, output


def test_a_hold_the_database_lost_gets_its_row_when_the_office_places_it_again(world, fabric):
    vehicle = registered(world)
    with database_fails_after(2) as committed:  # the evidence's anchor, then the placing
        place_stolen(world, vehicle.vin)
    assert not Hold.objects.exists()
    placed_on_ledger = json.loads(fabric.state_json(f"holds:{vehicle.vin}"))["active"]
    assert len(placed_on_ledger) == 1

    # The office places it again with the same evidence: the ledger answers from its change,
    # and the ledger's hold now has its row, so the office can lift it.
    hold = place_stolen(world, vehicle.vin)

    assert [hold.reference] == placed_on_ledger and str(hold.ledger_change_id) == committed[1]
    lifted = lift(world, hold)
    assert lifted.status == "lifted"
    assert json.loads(fabric.state_json(f"holds:{vehicle.vin}"))["active"] == []
