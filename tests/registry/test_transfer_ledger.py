"""The ledger records a change of owner, signed by the LTO, with pseudonyms only: one per
vehicle and owner, so that the ledger cannot link one person's vehicles. verify_ledger and
reconcile_ledger hold the buyer's ownership period against it (embedded ledger)."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from ledger import get_ledger
from ledger.base import OwnershipTransfer, actor_pseudonym, owner_pseudonym
from ledger.exceptions import LedgerRejected
from ledger.models import LedgerEntry, WorldState
from registry.models import OwnershipPeriod, Vehicle
from tests.factories import UserFactory
from tests.transfers import registered, transferred


def verify() -> tuple[str, str, CommandError | None]:
    out, err = StringIO(), StringIO()
    try:
        call_command("verify_ledger", stdout=out, stderr=err)
    except CommandError as error:
        return out.getvalue(), err.getvalue(), error
    return out.getvalue(), err.getvalue(), None


def reconcile() -> tuple[str, CommandError | None]:
    out = StringIO()
    try:
        call_command("reconcile_ledger", "--idle-seconds", "0", stdout=out)
    except CommandError as error:
        return out.getvalue(), error
    return out.getvalue(), None


def test_one_person_s_two_vehicles_have_unrelated_owners_on_the_ledger(world):
    first, second = registered(world), registered(world)

    owners = [get_ledger().world_state("GetVehicle", v.vin)["owner"] for v in (first, second)]

    assert owners == [
        owner_pseudonym(first.vin, world.owner.pk),
        owner_pseudonym(second.vin, world.owner.pk),
    ]
    assert owners[0] != owners[1]
    # Nor does the ledger carry the person's own pseudonym, which would link the two.
    written = " ".join(WorldState.objects.values_list("value", flat=True))
    assert actor_pseudonym(world.owner.pk) not in written


def test_an_approved_transfer_is_on_the_ledger_signed_by_the_lto_with_pseudonyms_only(world):
    application = transferred(world)
    vehicle = Vehicle.objects.get(pk=application.vehicle_id)
    period = OwnershipPeriod.objects.get(vehicle=vehicle, ended_on__isnull=True)

    change = get_ledger().get_change(str(period.ledger_change_id))
    entry = LedgerEntry.objects.get(tx_id=period.ledger_tx_id)

    assert period.owner == world.other_owner and period.ledger_backend == "embedded"
    assert entry.function == "TransferOwnership" and entry.creator_msp == "LTOMSP"
    assert change is not None and change["type"] == "transfer" and change["msp_id"] == "LTOMSP"
    assert change["from_owner"] == owner_pseudonym(vehicle.vin, world.owner.pk)
    assert change["to_owner"] == owner_pseudonym(vehicle.vin, world.other_owner.pk)
    assert get_ledger().world_state("GetVehicle", vehicle.vin)["owner"] == change["to_owner"]
    said = str(entry.args) + entry.response
    for person in (world.owner, world.other_owner):
        assert person.email not in said and person.get_full_name() not in said
        assert actor_pseudonym(person.pk) not in said
    output, _, error = verify()
    assert error is None and output.startswith("OK:")
    output, error = reconcile()
    assert error is None and output.startswith("OK:"), output


def test_verify_ledger_names_a_transfer_whose_rows_were_changed_behind_its_back(world):
    application = transferred(world)
    period = OwnershipPeriod.objects.get(vehicle_id=application.vehicle_id, ended_on__isnull=True)
    # Planted: the seller's period rewritten to name someone else.
    OwnershipPeriod.objects.filter(
        vehicle_id=application.vehicle_id, ended_on__isnull=False
    ).update(owner=UserFactory())

    _, errors, error = verify()

    assert error is not None
    assert f"ownership period {period.pk} (change {period.ledger_change_id})" in errors
    assert "differs from its ledger transfer in from_owner" in errors


def test_the_ledger_refuses_a_transfer_from_the_owner_before_the_last(world):
    application = transferred(world)
    vin = application.vehicle.vin
    before = LedgerEntry.objects.count()

    with pytest.raises(LedgerRejected, match="not the seller"):
        get_ledger().transfer_ownership(
            OwnershipTransfer(
                vin=vin,
                from_owner=owner_pseudonym(vin, world.owner.pk),
                to_owner=owner_pseudonym(vin, UserFactory().pk),
                change_id="a-stale-transfer",
                signer_msp="LTOMSP",
            )
        )

    assert LedgerEntry.objects.count() == before
    assert get_ledger().world_state("GetVehicle", vin)["owner"] == owner_pseudonym(
        vin, world.other_owner.pk
    )


def test_reconcile_names_a_vehicle_whose_owner_was_changed_behind_the_ledger_s_back(world):
    application = transferred(world)
    vehicle = Vehicle.objects.get(pk=application.vehicle_id)
    Vehicle.objects.filter(pk=vehicle.pk).update(owner=world.owner)

    output, error = reconcile()

    assert error is not None
    assert f"vehicle {vehicle.vin}: has another owner in the database than on the ledger" in output
