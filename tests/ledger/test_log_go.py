"""Our checkpoints, tiles and proofs, checked by code we did not write: Go's reference
implementation of signed notes and tiled logs (golang.org/x/mod/sumdb/note and sumdb/tlog,
Debian's golang-golang-x-mod-dev; `scripts/system-deps golang` installs it), reading the
log's public URLs from a live server."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from django.test import override_settings

from ledger import get_ledger, log
from ledger.models import LedgerCheckpoint, LedgerEntry
from tests.ledger.test_log import write

GO_SOURCE = Path(__file__).parent / "go" / "verify_log.go"
GO_PATH = "/usr/share/gocode"  # where Debian puts golang.org/x/mod's sources


@pytest.fixture(scope="module")
def go_verifier(tmp_path_factory) -> Path:
    go = shutil.which("go")
    assert go, "Go is missing: run scripts/system-deps golang"
    build = tmp_path_factory.mktemp("go")
    binary = build / "verify_log"
    env = {
        **os.environ,
        "GO111MODULE": "off",
        "GOPATH": GO_PATH,
        "GOCACHE": str(build / "cache"),
    }
    subprocess.run(
        [go, "build", "-o", str(binary), str(GO_SOURCE)], check=True, env=env, timeout=300
    )
    return binary


@pytest.mark.django_db(transaction=True)
@override_settings(LEDGER_SEQUENCER="sequencer")
def test_go_checks_our_checkpoint_and_proofs_against_our_tiles(go_verifier, live_server):
    for n in range(600):  # more than two full tiles, so level-1 tiles exist
        write(n)
    assert log.integrate(batch_size=250) == 250
    assert log.integrate_all(batch_size=10_000) == 350
    old = LedgerCheckpoint.objects.get(size=250)
    entry = LedgerEntry.objects.get(position=123)
    ledger = get_ledger()
    proof = ledger.inclusion_proof(entry.seq)
    request = {
        "base_url": f"{live_server.url}/ledger/",
        "old_checkpoint": old.note,
        "index": proof["index"],
        "leaf_hash": proof["leaf_hash"],
        "inclusion": proof["path"],
        "consistency": ledger.consistency_proof(250, 600),
    }

    result = subprocess.run(
        [str(go_verifier)], input=json.dumps(request), capture_output=True, text=True, timeout=60
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        f"OK checkpoint {log.origin()} 600 signed by {log.origin()}",
        "OK inclusion of leaf 123 in 600",
        "OK consistency of 250 with 600",
        "OK tiles",
    ]


@pytest.mark.django_db(transaction=True)
def test_go_refuses_a_proof_we_altered(go_verifier, live_server):
    for n in range(5):
        write(n)
    ledger = get_ledger()
    proof = ledger.inclusion_proof(LedgerEntry.objects.get(position=2).seq)
    request = {
        "base_url": f"{live_server.url}/ledger/",
        "old_checkpoint": LedgerCheckpoint.objects.get(size=3).note,
        "index": proof["index"],
        "leaf_hash": "00" * 32,
        "inclusion": proof["path"],
        "consistency": ledger.consistency_proof(3, 5),
    }

    result = subprocess.run(
        [str(go_verifier)], input=json.dumps(request), capture_output=True, text=True, timeout=60
    )

    assert result.returncode == 1 and "FAIL: inclusion proof" in result.stderr
