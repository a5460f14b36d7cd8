"""verify_ledger recomputes everything and names what was altered behind the app's back."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import connection

from clearance.models import ClearanceStatusChange
from ledger.models import LedgerEntry
from registry.document_services import document_upload
from tests.conftest import claim_and_approve, filed_application, sent_for_clearance


@pytest.fixture
def busy_ledger(world):
    _, requests = sent_for_clearance(world)
    for request in requests.values():
        claim_and_approve(world, request)
    return requests


def verify() -> str:
    """Run the command; return what it reported as the first mismatch ('' when clean)."""
    from io import StringIO

    out, err = StringIO(), StringIO()
    try:
        call_command("verify_ledger", stdout=out, stderr=err)
    except CommandError:
        return err.getvalue()
    assert out.getvalue().startswith("OK: ")
    return ""


def sql(statement: str, params: list) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def test_an_untouched_ledger_verifies(busy_ledger):
    assert verify() == ""


def test_an_altered_ledger_entry_is_named(busy_ledger):
    entry = LedgerEntry.objects.get(position=3)
    sql(
        "UPDATE ledger_ledgerentry SET args = %s WHERE seq = %s",
        [json.dumps([*entry.args[:4], "approved", *entry.args[5:]]), entry.seq],
    )
    report = verify()
    assert report.startswith(f"FIRST MISMATCH: ledger entry #{entry.seq} (tx {entry.tx_id[:16]})")
    assert "content does not match its hash" in report


def test_a_deleted_ledger_entry_breaks_the_chain_at_the_next_one(busy_ledger):
    second, third, fourth = (LedgerEntry.objects.get(position=p).seq for p in (1, 2, 3))
    sql("DELETE FROM ledger_keymodification WHERE entry_id = %s", [third])
    sql("UPDATE ledger_worldstate SET entry_id = %s WHERE entry_id = %s", [second, third])
    sql("DELETE FROM ledger_ledgerentry WHERE seq = %s", [third])
    assert verify().startswith(f"FIRST MISMATCH: ledger entry #{fourth}")


def test_an_altered_world_state_row_is_named(busy_ledger):
    hpg = busy_ledger["HPG"]
    key = f"clearance:{hpg.public_id}"
    sql(
        "UPDATE ledger_worldstate SET value = replace(value, 'approved', 'rejected') "
        "WHERE key = %s",
        [key],
    )
    report = verify()
    assert report.startswith(f"FIRST MISMATCH: world state {key}")
    assert "differs from what ledger entry #" in report


def test_an_altered_status_history_row_is_named(busy_ledger):
    row = ClearanceStatusChange.objects.filter(
        request=busy_ledger["EMISSION"], to_status="approved"
    ).get()
    sql(
        "UPDATE clearance_clearancestatuschange SET to_status = 'rejected' WHERE id = %s",
        [row.pk],
    )
    report = verify()
    assert report.startswith(f"FIRST MISMATCH: clearance history row {row.pk}")
    assert "differs from the ledger in status" in report


def test_a_history_row_with_no_ledger_change_is_named(busy_ledger):
    row = ClearanceStatusChange.objects.filter(request=busy_ledger["HPG"]).last()
    sql(
        "UPDATE clearance_clearancestatuschange SET change_id = %s WHERE id = %s",
        ["00000000-0000-0000-0000-000000000000", row.pk],
    )
    report = verify()
    assert f"clearance history row {row.pk}" in report
    assert "has no change on the ledger" in report
    assert f"ledger change {row.change_id}" in report and "has no history row" in report


def an_uploaded_document(world):
    return document_upload(
        application_id=filed_application(world).pk,
        uploader=world.owner,
        doc_type="sales_invoice",
        upload=SimpleUploadedFile("invoice.pdf", b"%PDF-1.4 an invoice"),
    )


def test_a_document_row_rewritten_behind_the_app_is_named(world):
    document = an_uploaded_document(world)
    assert verify() == ""
    sql("UPDATE registry_document SET sha256 = %s WHERE id = %s", ["0" * 64, document.pk])
    report = verify()
    assert f"document {document.public_id}" in report
    assert "differs from its ledger anchor in sha256" in report


def test_a_document_anchor_without_its_row_is_named(world):
    document = an_uploaded_document(world)
    sql("DELETE FROM registry_document WHERE id = %s", [document.pk])
    report = verify()
    assert f"ledger change {document.ledger_change_id}" in report
    assert "has no history row" in report


def test_a_zeroed_remarks_digest_is_named(busy_ledger):
    row = ClearanceStatusChange.objects.filter(
        request=busy_ledger["HPG"], to_status="approved"
    ).get()
    sql(
        "UPDATE clearance_clearancestatuschange SET remarks_digest = %s WHERE id = %s",
        ["0" * 64, row.pk],
    )
    report = verify()
    assert report.startswith(f"FIRST MISMATCH: clearance history row {row.pk}")
    assert "remarks_digest that is not the digest of its remarks" in report


def test_a_rewritten_actor_pseudonym_is_named(busy_ledger):
    row = ClearanceStatusChange.objects.filter(request=busy_ledger["HPG"]).last()
    sql(
        "UPDATE clearance_clearancestatuschange SET actor_pseudonym = %s WHERE id = %s",
        ["f" * 64, row.pk],
    )
    report = verify()
    assert f"clearance history row {row.pk}" in report
    assert "actor_pseudonym that is not its actor's" in report
