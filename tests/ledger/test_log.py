"""The embedded ledger as a transparency log: writers share no row, the sequencer integrates
committed leaves into C2SP tiles and signs checkpoints that only grow, proofs come from the
tiles in O(log n) reads, and receipts say truthfully whether their entry is in the tree yet."""

from __future__ import annotations

import base64
import importlib
from datetime import timedelta
from io import StringIO

import pytest
from django.apps import apps as django_apps
from django.core.management import CommandError, call_command
from django.db import connection, connections, transaction
from django.test import override_settings
from django.utils import timezone

from ledger import get_ledger, log, merkle
from ledger.base import ClearanceChange
from ledger.models import LedgerCheckpoint, LedgerEntry, LedgerHead, LedgerTile
from ledger.notes import Checkpoint, NoteError, Verifier, open_note
from ledger.verify import replay_embedded

VIN = "JTDBR32E720012345"
SEQUENCER = override_settings(LEDGER_SEQUENCER="sequencer")


def change(n: int) -> ClearanceChange:
    return ClearanceChange(
        clearance_id=f"c{n}",
        vin=VIN,
        kind="HPG",
        from_status="",
        to_status="pending",
        change_id=f"00000000-0000-0000-0000-{n:012d}",
        actor_id="a" * 64,
        remarks_digest="",
        signer_msp="LTOMSP",
    )


def write(n: int):
    return get_ledger().update_clearance_status(change(n))


def leaf_hashes() -> list[bytes]:
    return [
        bytes.fromhex(h)
        for h in LedgerEntry.objects.order_by("position").values_list("leaf_hash", flat=True)
    ]


@pytest.mark.django_db
def test_tile_paths_follow_the_c2sp_layout():
    assert log.tile_path(0, 1234067) == "tile/0/x001/x234/067"
    assert log.tile_path(1, 5, width=17) == "tile/1/005.p/17"
    assert log.parse_tile_path("tile/0/x001/x234/067") == (0, 1234067, 256)
    assert log.parse_tile_path("tile/2/000.p/255") == (2, 0, 255)
    for bad in (
        "tile/0/1234067",
        "tile/00/000",
        "tile/0/x000/001",
        "tile/0/000.p/256",
        "tile/entries/000",
    ):
        with pytest.raises(ValueError):
            log.parse_tile_path(bad)


@pytest.mark.django_db
@SEQUENCER
def test_a_write_records_its_leaf_and_waits_for_the_sequencer():
    head_before = LedgerHead.objects.get(pk=1).size
    receipt = write(1)
    entry = LedgerEntry.objects.get(tx_id=receipt.tx_id)

    assert entry.position is None and LedgerHead.objects.get(pk=1).size == head_before
    leaf, stamped, deadline = log.open_promise(receipt.proof["promise"])
    assert leaf == receipt.proof["leaf_hash"] == entry.leaf_hash
    assert deadline - stamped == timedelta(seconds=1)
    check = get_ledger().verify_receipt(tx_id=receipt.tx_id, change_id=change(1).change_id)
    assert check.ok and check.awaiting_inclusion and "awaiting inclusion" in check.detail

    assert log.integrate() == 1
    entry.refresh_from_db()
    assert entry.position == head_before
    check = get_ledger().verify_receipt(tx_id=receipt.tx_id, change_id=change(1).change_id)
    assert check.ok and check.included_in == head_before + 1
    assert f"included in checkpoint {head_before + 1}" in check.detail


@pytest.mark.django_db(transaction=True)
@SEQUENCER
def test_a_write_takes_no_row_that_every_write_shares():
    importlib.import_module("ledger.migrations.0002_ledger_head").create_head(django_apps, None)
    # Another session holds the tree's head row, as the sequencer does while it integrates.
    holder = connections.create_connection("default")
    holder.set_autocommit(False)
    try:
        with holder.cursor() as cursor:
            cursor.execute("SELECT size FROM ledger_ledgerhead WHERE id = 1 FOR UPDATE")
        with transaction.atomic():
            with connection.cursor() as cursor:
                # A writer that needed the row would fail here instead of waiting for ever.
                cursor.execute("SET LOCAL lock_timeout = '3s'")
            receipts = [write(1), write(2)]
    finally:
        holder.rollback()
        holder.close()
    assert not LedgerEntry.objects.filter(position__isnull=False).exists()
    assert log.integrate() == 2
    assert sorted(LedgerEntry.objects.values_list("position", flat=True)) == [0, 1]
    assert {r.tx_id for r in receipts} == set(LedgerEntry.objects.values_list("tx_id", flat=True))


@pytest.mark.django_db
@SEQUENCER
def test_the_sequencer_builds_tiles_and_proofs_read_them_in_few_reads():
    start = LedgerHead.objects.get(pk=1).size
    for n in range(300):
        write(n)
    assert log.integrate(batch_size=120) == 120  # batches: a checkpoint after each
    assert log.integrate_all(batch_size=120) == 180
    hashes = leaf_hashes()
    size = len(hashes)
    assert size == start + 300
    assert LedgerCheckpoint.objects.filter(size__gt=start).count() == 3

    reader = log.TileReader()
    assert reader.root(size) == merkle.root_from_leaves(hashes)
    assert LedgerTile.objects.get(level=0, index=0).width == min(size, 256)
    for index in (0, 1, size // 2, size - 1):
        reader = log.TileReader()
        path = log.inclusion_path(index, size, reader)
        assert path == merkle.inclusion_proof(index, hashes)
        assert reader.reads <= 4  # a handful of tiles, not every entry
    for old in (1, start + 120, size - 1):
        reader = log.TileReader()
        assert log.consistency_path(old, size, reader) == merkle.consistency_proof(old, hashes)
    checkpoint = log.open_checkpoint(LedgerCheckpoint.objects.get(size=size).note)
    assert checkpoint.root == merkle.root_from_leaves(hashes)
    assert replay_embedded(get_ledger()).problems == []


@pytest.mark.django_db
@SEQUENCER
def test_a_rolled_back_tree_is_refused_and_nothing_is_signed():
    write(1)
    log.integrate()
    earlier = LedgerHead.objects.get(pk=1)
    write(2)
    log.integrate()
    write(3)
    checkpoints = LedgerCheckpoint.objects.count()
    # The head's row restored from an older backup: the tree the last checkpoint signed is lost.
    LedgerHead.objects.filter(pk=1).update(size=earlier.size, frontier=earlier.frontier)
    with pytest.raises(log.LogForked, match="forks or rolls back"):
        log.integrate()
    assert LedgerCheckpoint.objects.count() == checkpoints


@pytest.mark.django_db
@SEQUENCER
def test_a_second_checkpoint_at_a_size_already_signed_is_refused():
    write(1)
    log.integrate()
    latest = LedgerCheckpoint.objects.order_by("-size").first()
    write(2)
    # A second sequencer that skipped the lease and the head's lock would sign this size.
    LedgerCheckpoint.objects.create(size=latest.size + 1, root="0" * 64, note="forged")
    with pytest.raises(log.LogForked):
        log.integrate()
    assert not LedgerEntry.objects.filter(position=latest.size).exists()


@pytest.mark.django_db(transaction=True)
def test_a_second_sequencer_does_not_start_while_one_holds_the_lease():
    importlib.import_module("ledger.migrations.0002_ledger_head").create_head(django_apps, None)
    first = connections.create_connection("default")
    try:
        with first.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [log.SEQUENCER_LEASE])
            assert cursor.fetchone()[0]
        with pytest.raises(CommandError, match="Another ledger_sequencer holds the lease"):
            call_command("ledger_sequencer", "--once", stdout=StringIO(), stderr=StringIO())
        # Let go explicitly: a closed connection's server process ends, and frees its locks,
        # a moment after the client has gone, and the next start would race it.
        with first.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [log.SEQUENCER_LEASE])
    finally:
        first.close()
    out = StringIO()
    call_command("ledger_sequencer", "--once", stdout=out, stderr=StringIO())
    assert out.getvalue().splitlines() == [
        "sequencer: holding the lease, integrating",
        "integrated 0 entries",
    ]


@pytest.mark.django_db
@SEQUENCER
def test_an_entry_waiting_past_the_maximum_merge_delay_shows_in_health():
    receipt = write(1)
    assert get_ledger().health().ok
    LedgerEntry.objects.filter(tx_id=receipt.tx_id).update(
        timestamp=timezone.now() - timedelta(seconds=5)
    )
    health = get_ledger().health()
    assert not health.ok and "waited" in health.detail and "sequencer" in health.detail
    log.integrate()
    assert get_ledger().health().ok


@pytest.mark.django_db
def test_the_checkpoint_and_tiles_are_public_and_the_leaves_are_not(client):
    for n in range(3):
        write(n)
    note = client.get("/ledger/checkpoint")
    assert note.status_code == 200 and note["Content-Type"].startswith("text/plain")
    vkey = client.get("/ledger/key").content.decode().strip()
    checkpoint = Checkpoint.parse(open_note(note.content.decode(), [Verifier.parse(vkey)]))
    hashes = leaf_hashes()
    assert checkpoint.size == len(hashes)
    assert checkpoint.root == merkle.root_from_leaves(hashes)

    width = min(len(hashes), 256)
    path = log.tile_path(0, 0, width if width < 256 else 256)
    tile = client.get(f"/ledger/{path}")
    assert tile.status_code == 200 and tile["Content-Type"] == "application/octet-stream"
    assert tile.content == b"".join(hashes[:width])
    assert client.get("/ledger/tile/0/000.p/255").status_code == (200 if width >= 255 else 404)
    assert client.get("/ledger/tile/entries/000").status_code == 404
    assert client.get("/ledger/tile/9/x1/2").status_code == 404


@pytest.mark.django_db
def test_a_checkpoint_signed_by_another_key_does_not_open():
    write(1)
    note = LedgerCheckpoint.objects.order_by("-size").first().note
    with override_settings(LEDGER_SIGNING_KEY="11" * 32):
        with pytest.raises(NoteError):
            log.open_checkpoint(note)
        # Listing the retired key lets notes it signed open after a rotation.
        old = log.Verifier(log.origin(), log._private_key("22" * 32).public_key())
        assert old.key_id != Verifier(log.origin(), log.signing_key().public_key()).key_id
    retired = log.current_verifier_key()
    with override_settings(LEDGER_SIGNING_KEY="11" * 32, LEDGER_RETIRED_VERIFIER_KEYS=[retired]):
        assert log.open_checkpoint(note).size >= 1


def test_a_signed_note_has_the_c2sp_key_id():
    key = log._private_key("33" * 32)
    text = Checkpoint("example.com/log", 7, bytes(32)).text()
    from ledger.notes import sign_note, verifier_key

    note = sign_note(text, "example.com/log", key)
    vkey = verifier_key("example.com/log", key.public_key())
    name, hex_id, encoded = vkey.split("+")
    assert name == "example.com/log"
    signature_line = note.split("\n\n")[1]
    blob = base64.b64decode(signature_line.split(" ")[2])
    assert int(hex_id, 16) == int.from_bytes(blob[:4], "big")
    assert base64.b64decode(encoded)[0] == 1 and note.startswith(text + "\n\u2014 example.com/log ")
    assert open_note(note, [Verifier.parse(vkey)]) == text
