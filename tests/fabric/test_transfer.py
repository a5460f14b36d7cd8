"""A change of owner on the Fabric test peer: signed by the LTO's MSP, refused from any other,
confirmed by the listener, and held against the database by reconcile_ledger (with --repair
writing back what the ledger committed and the database lost)."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from io import StringIO
from unittest import mock

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from chaincode.rules import ApplicationStatus
from ledger import get_ledger
from ledger.base import OwnershipTransfer, owner_pseudonym
from ledger.exceptions import LedgerRejected
from registry import services as registry_services
from registry.models import OwnershipPeriod, Vehicle
from registry.transfers import transfer_change_id
from tests.paying import pay_in_full
from tests.transfers import cleared_transfer, registered, transferred


def reconcile(*options: str) -> tuple[str, CommandError | None]:
    out = StringIO()
    try:
        call_command("reconcile_ledger", "--idle-seconds", "0.5", *options, stdout=out)
    except CommandError as error:
        return out.getvalue(), error
    return out.getvalue(), None


def buyer_period(application) -> OwnershipPeriod:  # type: ignore[no-untyped-def]
    return OwnershipPeriod.objects.get(vehicle_id=application.vehicle_id, ended_on__isnull=True)


@contextlib.contextmanager
def database_fails_after(writes: int) -> Iterator[list[str]]:
    """The next ``writes`` ledger writes commit; then the database transaction that asked for
    them fails. Yields the change ids the ledger committed."""
    ledger = get_ledger()
    committed: list[str] = []
    real_record = ledger.record

    def record_then_fail(record):  # type: ignore[no-untyped-def]
        receipt = real_record(record)
        committed.append(record.change_id)
        if len(committed) == writes:
            raise RuntimeError("the database connection dropped")
        return receipt

    with mock.patch.object(ledger, "record", record_then_fail), pytest.raises(RuntimeError):
        yield committed


def test_the_transfer_is_signed_by_the_lto_s_msp_and_moves_the_ledger_s_owner(world, fabric):
    application = transferred(world)
    period = buyer_period(application)
    vin = application.vehicle.vin

    [tx] = [tx for tx in fabric.committed() if tx.tx_id == period.ledger_tx_id]
    change = json.loads(tx.writes[f"change:{period.ledger_change_id}"] or b"{}")
    vehicle = json.loads(fabric.state_json(f"vehicle:{vin}") or b"{}")

    assert tx.creator_msp == "LTOMSP" and tx.event is not None
    assert tx.event.event_name == "OwnershipTransferred"
    assert change["from_owner"] == owner_pseudonym(vin, world.owner.pk)
    assert change["to_owner"] == owner_pseudonym(vin, world.other_owner.pk)
    assert vehicle["owner"] == change["to_owner"]
    output, error = reconcile()
    assert error is None, output


def test_a_transfer_forged_by_another_msp_is_refused_and_nothing_is_saved(world, fabric):
    vehicle = registered(world)
    committed_before = len(fabric.committed())
    forged = OwnershipTransfer(
        vin=vehicle.vin,
        from_owner=owner_pseudonym(vehicle.vin, world.owner.pk),
        to_owner=owner_pseudonym(vehicle.vin, world.hpg_officer.pk),
        change_id="forged-transfer",
        signer_msp="HPGMSP",
    )

    with pytest.raises(LedgerRejected, match="Only the LTO records a change of owner"):
        get_ledger().transfer_ownership(forged)

    assert len(fabric.committed()) == committed_before
    assert fabric.state_json("change:forged-transfer") is None
    on_ledger = json.loads(fabric.state_json(f"vehicle:{vehicle.vin}") or b"{}")
    assert on_ledger["owner"] == owner_pseudonym(vehicle.vin, world.owner.pk)
    assert not OwnershipPeriod.objects.filter(ledger_backend="fabric").exists()


def test_the_listener_confirms_the_transfer_s_receipt(world, fabric):
    application = transferred(world)
    assert buyer_period(application).ledger_confirmed_at is None

    with mock.patch("notifications.live._enqueue_push"):
        call_command("ledger_listen", "--idle-seconds", "0.5", stdout=StringIO())

    period = buyer_period(application)
    assert period.ledger_confirmed_at is not None and period.ledger_block is not None


def test_reconcile_reports_a_deleted_transfer_row_and_repair_opens_it_again(world, fabric):
    application = transferred(world)
    period = buyer_period(application)
    change_id, tx_id = str(period.ledger_change_id), period.ledger_tx_id
    OwnershipPeriod.objects.filter(pk=period.pk).delete()

    output, error = reconcile()

    assert error is not None
    assert f"ledger change {change_id}: has no history row" in output

    output, error = reconcile("--repair")

    assert error is None, output
    assert f"REPAIRED: ledger change {change_id}: transfer of vehicle" in output
    restored = buyer_period(application)
    assert restored.owner == world.other_owner and restored.acquired == "transfer"
    assert str(restored.ledger_change_id) == change_id and restored.ledger_tx_id == tx_id
    assert restored.repaired_from_ledger_at is not None


def test_a_transfer_whose_approval_was_lost_is_not_repaired_and_the_lto_approves_again(
    world, fabric
):
    application = cleared_transfer(world, registered(world))
    pay_in_full(application)
    with database_fails_after(1) as committed:  # the transfer; its registration never went
        registry_services.registration_approve(application_id=application.pk, actor=world.lto_admin)
    assert committed == [str(transfer_change_id(application))]

    output, error = reconcile("--repair")

    assert error is not None
    assert f"NOT REPAIRED: ledger change {committed[0]}: no approved transfer" in output
    application.refresh_from_db()
    assert application.status == ApplicationStatus.CLEARED

    # Approving again is answered from the ledger's transfer rather than refused.
    registry_services.registration_approve(application_id=application.pk, actor=world.lto_admin)

    period = buyer_period(application)
    assert str(period.ledger_change_id) == committed[0]
    assert period.ledger_tx_id == get_ledger().get_change(committed[0])["tx_id"]
    output, error = reconcile()
    assert error is None, output


def test_a_lost_transfer_approval_comes_back_with_its_registration(world, fabric):
    application = cleared_transfer(world, registered(world))
    pay_in_full(application)
    with database_fails_after(2) as committed:  # the transfer, then the registration
        registry_services.registration_approve(application_id=application.pk, actor=world.lto_admin)

    output, error = reconcile("--repair")

    assert error is None, output
    assert f"REPAIRED: ledger change {committed[1]}: application {application.reference}" in output
    vehicle = Vehicle.objects.get(pk=application.vehicle_id)
    period = buyer_period(application)
    assert vehicle.owner == world.other_owner and period.owner == world.other_owner
    assert str(period.ledger_change_id) == committed[0]
    assert period.repaired_from_ledger_at is not None
