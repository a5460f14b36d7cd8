"""The rows of holds against the ledger (embedded): the keepers of PlaceHold and LiftHold
confirm their receipts from the ledger's events, verify_ledger names a hold row changed
behind the ledger's back, and reconcile_ledger a hold whose state differs from GetHold."""

from __future__ import annotations

import json

from ledger import keepers
from ledger.events import LedgerEvent
from registry.models import Hold
from tests.registry.test_holds import lift, place_stolen
from tests.registry.test_transfer_ledger import reconcile, verify
from tests.transfers import registered


def event(name: str, hold: Hold, change_id, tx_id: str, block: int = 9) -> LedgerEvent:
    payload = {"hold_id": hold.reference, "vin": hold.vin, "change_id": str(change_id)}
    return LedgerEvent(block=block, tx_id=tx_id, name=name, payload=json.dumps(payload).encode())


def test_placed_and_lifted_holds_verify_and_reconcile_clean(world):
    vehicle = registered(world)
    lift(world, place_stolen(world, vehicle.vin))
    place_stolen(world, vehicle.vin)

    output, _, error = verify()
    assert error is None and output.startswith("OK:"), output
    output, error = reconcile()
    assert error is None and output.startswith("OK:"), output


def test_the_keepers_confirm_the_placing_and_the_lifting_from_their_events(world):
    hold = lift(world, place_stolen(world, registered(world).vin))
    Hold.objects.filter(pk=hold.pk).update(ledger_confirmed_at=None, lift_ledger_confirmed_at=None)

    placed = keepers.confirm(
        event=event("HoldPlaced", hold, hold.ledger_change_id, hold.ledger_tx_id, hold.ledger_block)
    )
    lifted = keepers.confirm(
        event=event(
            "HoldLifted", hold, hold.lift_change_id, hold.lift_ledger_tx_id, hold.lift_ledger_block
        )
    )
    again = keepers.confirm(
        event=event(
            "HoldLifted", hold, hold.lift_change_id, hold.lift_ledger_tx_id, hold.lift_ledger_block
        )
    )
    elsewhere = keepers.confirm(event=event("HoldPlaced", hold, hold.ledger_change_id, "other-tx"))

    assert placed.confirmed and lifted.confirmed, (placed, lifted)
    assert not again.confirmed and again.note == "already confirmed"
    assert not elsewhere.confirmed and elsewhere.note == "recorded in another transaction"
    hold.refresh_from_db()
    assert hold.ledger_confirmed_at is not None and hold.lift_ledger_confirmed_at is not None


def test_verify_names_a_hold_whose_reason_or_lifting_was_changed_behind_the_ledgers_back(world):
    hold = lift(world, place_stolen(world, registered(world).vin))
    Hold.objects.filter(pk=hold.pk).update(reason="administrative", lift_ledger_tx_id="forged")

    _, errors, error = verify()

    assert error is not None
    assert f"hold {hold.reference} on {hold.vin}" in errors
    assert "differs from its ledger hold in reason" in errors
    assert "differs from its ledger lifting in tx_id" in errors


def test_reconcile_names_a_hold_lifted_in_the_database_but_active_on_the_ledger(world):
    hold = place_stolen(world, registered(world).vin)
    # Planted: lifted here without LiftHold, so the ledger still holds the vehicle.
    Hold.objects.filter(pk=hold.pk).update(
        status="lifted", lifted_at=hold.placed_at, lift_change_id=hold.ledger_change_id
    )

    output, error = reconcile()

    assert error is not None
    assert f"hold {hold.reference}: is lifted in the database but active on the ledger" in output
