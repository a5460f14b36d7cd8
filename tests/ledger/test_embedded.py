"""The embedded ledger: receipts, refusals that leave nothing, chain and tree that verify."""

from __future__ import annotations

import pytest
from django.db import transaction

from ledger import get_ledger, merkle
from ledger.base import ClearanceChange
from ledger.exceptions import LedgerRejected
from ledger.models import LedgerEntry, LedgerHead, WorldState
from ledger.verify import replay_embedded

VIN = "JTDBR32E720012345"


def change(**overrides) -> ClearanceChange:
    values = dict(
        clearance_id="c1",
        vin=VIN,
        kind="HPG",
        from_status="",
        to_status="pending",
        change_id="11111111-1111-1111-1111-111111111111",
        actor_id="a" * 64,
        remarks_digest="",
        signer_msp="LTOMSP",
    )
    return ClearanceChange(**{**values, **overrides})


@pytest.mark.django_db
def test_a_write_returns_a_receipt_for_the_next_entry():
    receipt = get_ledger().update_clearance_status(change())
    entry = LedgerEntry.objects.get()
    assert (receipt.backend, receipt.tx_id, receipt.block) == ("embedded", entry.tx_id, entry.seq)
    assert receipt.proof["tree_root"] == entry.tree_root
    assert receipt.proof["leaf_hash"] == entry.leaf_hash and entry.position == 0
    assert WorldState.objects.filter(key="clearance:c1").exists()
    assert LedgerHead.objects.get().size == 1


@pytest.mark.django_db
def test_a_retried_change_is_recorded_once_with_the_same_receipt():
    ledger = get_ledger()
    first = ledger.update_clearance_status(change())
    again = ledger.update_clearance_status(change())
    assert again.tx_id == first.tx_id and again.replayed
    assert LedgerEntry.objects.count() == 1


@pytest.mark.django_db
def test_a_refusal_writes_nothing_and_says_why():
    with pytest.raises(LedgerRejected, match="Only LTO"):
        get_ledger().update_clearance_status(change(signer_msp="HPGMSP"))
    assert not LedgerEntry.objects.exists() and not WorldState.objects.exists()
    assert LedgerHead.objects.get().size == 0


@pytest.mark.django_db(transaction=True)
def test_ledger_writes_roll_back_with_the_callers_transaction():
    with pytest.raises(RuntimeError), transaction.atomic():
        get_ledger().update_clearance_status(change())
        raise RuntimeError("the status change failed after the ledger call")
    assert not LedgerEntry.objects.exists()
    assert not LedgerHead.objects.filter(size__gt=0).exists()


@pytest.mark.django_db
def test_every_entry_is_provably_in_the_latest_signed_tree():
    ledger = get_ledger()
    for n in range(7):
        ledger.update_clearance_status(
            change(clearance_id=f"c{n}", change_id=f"00000000-0000-0000-0000-00000000000{n}")
        )
    head = LedgerEntry.objects.order_by("-seq").first()
    for entry in LedgerEntry.objects.order_by("position"):
        proof = ledger.inclusion_proof(entry.seq)
        assert merkle.verify_inclusion(
            proof["index"],
            proof["tree_size"],
            bytes.fromhex(proof["leaf_hash"]),
            [bytes.fromhex(node) for node in proof["path"]],
            bytes.fromhex(head.tree_root),
        )
    replay = replay_embedded(ledger)
    assert replay.problems == [] and replay.root == head.tree_root


@pytest.mark.django_db
def test_vehicle_history_is_read_from_the_key_history():
    ledger = get_ledger()
    from ledger.base import VehicleRegistration

    for n, digest in enumerate(["b" * 64, "c" * 64]):
        ledger.register_vehicle(
            VehicleRegistration(
                vin=VIN,
                record_digest=digest,
                change_id=f"reg{n}",
                owner="e" * 64,
                signer_msp="LTOMSP",
            )
        )
    history = ledger.history(VIN)
    assert [item["value"]["record_digest"] for item in history] == ["b" * 64, "c" * 64]


@pytest.mark.django_db
def test_health_reports_the_ledger_size():
    assert get_ledger().health().ok
