"""`migrate` turns the hash-chained log into the tiled one: entries keep their numbers, bytes
and places, a first checkpoint signs them, and receipts issued before still verify."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from ledger import get_ledger, leaves, log, merkle
from ledger.embedded import GENESIS_HASH, tree_head_message
from ledger.models import LedgerCheckpoint, LedgerEntry
from ledger.verify import replay_embedded
from tests.ledger.test_log import write

BEFORE = [("ledger", "0003_listener_checkpoint")]
ENTRIES = 300  # more than one tile


def chained_log_as_it_was_written(apps) -> list[dict]:
    """Entries, key history, world state and head as the chained ledger wrote them."""
    entry_model = apps.get_model("ledger", "LedgerEntry")
    key_model = apps.get_model("ledger", "KeyModification")
    state_model = apps.get_model("ledger", "WorldState")
    signing_key = log.signing_key()
    frontier, previous, receipts = merkle.Frontier(), GENESIS_HASH, []
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for seq in range(1, ENTRIES + 1):
        change_id = f"00000000-0000-0000-0000-{seq:012d}"
        tx_id = f"{seq:064x}"
        value = json.dumps({"tx_id": tx_id, "status": "pending"})
        entry = entry_model(
            seq=seq,
            tx_id=tx_id,
            function="UpdateClearanceStatus",
            args=[f"c{seq}", "VIN", "HPG", "", "pending", change_id, "a" * 64, ""],
            creator_msp="LTOMSP",
            response=json.dumps({"change_id": change_id}),
            write_set=[[f"change:{change_id}", value]],
            events=[],
            timestamp=start + timedelta(seconds=seq),
            prev_hash=previous,
        )
        content = leaves.chained_content(entry)
        entry.entry_hash = leaves.entry_hash(content)
        frontier.append(merkle.leaf_hash(content))
        entry.tree_root = frontier.root().hex()
        entry.tree_signature = signing_key.sign(tree_head_message(seq, entry.tree_root)).hex()
        entry.save(force_insert=True)
        key_model.objects.create(key=f"change:{change_id}", entry=entry, value=value)
        state_model.objects.create(key=f"change:{change_id}", value=value, entry=entry)
        previous = entry.entry_hash
        receipts.append({"tx_id": tx_id, "change_id": change_id, "root": entry.tree_root})
    apps.get_model("ledger", "LedgerHead").objects.update_or_create(
        pk=1, defaults={"size": ENTRIES, "last_hash": previous, "frontier": frontier.to_json()}
    )
    return receipts


@pytest.mark.django_db(transaction=True)
def test_the_chained_log_becomes_the_tiled_log_and_old_receipts_still_verify():
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes("ledger")
    executor.migrate(BEFORE)
    old_apps = executor.loader.project_state(BEFORE).apps
    for model in ("KeyModification", "WorldState", "LedgerEntry"):
        old_apps.get_model("ledger", model).objects.all().delete()
    receipts = chained_log_as_it_was_written(old_apps)

    executor = MigrationExecutor(connection)
    executor.migrate(latest)

    positions = list(LedgerEntry.objects.order_by("seq").values_list("seq", "position"))
    assert positions == [(seq, seq - 1) for seq in range(1, ENTRIES + 1)]
    assert list(LedgerCheckpoint.objects.values_list("size", flat=True)) == [ENTRIES]
    reader = log.TileReader()
    for k in (1, 2, 255, 256, 257, ENTRIES):
        # Every tree head signed before names a prefix of the new tree.
        assert reader.root(k).hex() == receipts[k - 1]["root"]
    ledger = get_ledger()
    for receipt in (receipts[0], receipts[ENTRIES // 2], receipts[-1]):
        check = ledger.verify_receipt(tx_id=receipt["tx_id"], change_id=receipt["change_id"])
        assert check.ok and check.included_in == ENTRIES, check.detail
    # An old tree head is still offered as the signed root of its size.
    proof = ledger.inclusion_proof(5, tree_size=10)
    assert proof["signed_message"] == tree_head_message(10, receipts[9]["root"]).decode()
    assert merkle.verify_inclusion(
        4,
        10,
        bytes.fromhex(proof["leaf_hash"]),
        [bytes.fromhex(node) for node in proof["path"]],
        bytes.fromhex(proof["tree_root"]),
    )
    assert replay_embedded(ledger).problems == []

    # The log goes on: the next entry takes the next number and the next place.
    receipt = write(ENTRIES + 1)
    entry = LedgerEntry.objects.get(tx_id=receipt.tx_id)
    assert (entry.seq, entry.position, entry.leaf_version) == (ENTRIES + 1, ENTRIES, 2)
    assert replay_embedded(ledger).problems == []
