"""ledger_listen confirms each change's block from the chaincode events, from a checkpoint."""

from __future__ import annotations

import threading
from io import StringIO
from unittest import mock

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection

from clearance import services as clearance_services
from clearance.models import ClearanceStatusChange
from ledger import get_ledger, keepers
from ledger.fabric.listener import follow
from ledger.models import ListenerCheckpoint
from registry import services as registry_services
from registry.document_services import document_upload
from registry.models import ApplicationStatusChange
from tests.conftest import build_world, claim_and_approve, sent_for_clearance
from tests.paying import pay_in_full


def listen() -> str:
    out = StringIO()
    call_command("ledger_listen", "--idle-seconds", "0.5", stdout=out)
    return out.getvalue()


def test_the_peer_streams_the_event_the_chaincode_sent(world, fabric):
    _, requests = sent_for_clearance(world)

    change = claim_and_approve(world, requests["HPG"])

    committed = {tx.tx_id: tx for tx in fabric.committed()}
    event = committed[change.ledger_tx_id].event
    assert event is not None and event.event_name == "ClearanceStatusUpdated"
    assert str(change.change_id).encode() in event.payload


def test_the_listener_confirms_each_change_and_resumes_after_a_restart(
    world, fabric, django_capture_on_commit_callbacks
):
    _, requests = sent_for_clearance(world)
    first = claim_and_approve(world, requests["HPG"])

    with (
        mock.patch("notifications.live._enqueue_push") as push,
        django_capture_on_commit_callbacks(execute=True),
    ):
        listen()

    rows = ClearanceStatusChange.objects.filter(ledger_backend="fabric")
    assert rows.count() >= 4  # three requests opened, one claimed, one approved
    assert all(row.ledger_confirmed_at is not None for row in rows)
    confirmed_first = {row.pk: row.ledger_confirmed_at for row in rows}
    assert push.call_count == rows.count()
    assert push.call_args.args[1]["event"] == "ledger_confirmed"
    checkpoint = ListenerCheckpoint.objects.get()
    assert (
        checkpoint.block_number == ClearanceStatusChange.objects.get(pk=first.pk).ledger_block + 1
    )

    # Restarted later: only what happened since is handled.
    second = claim_and_approve(world, requests["INSURANCE"])
    with (
        mock.patch("notifications.live._enqueue_push") as push,
        django_capture_on_commit_callbacks(execute=True),
    ):
        output = listen()

    assert push.call_count == 2  # the insurance claim and approval
    assert "already confirmed" not in output
    second.refresh_from_db()
    assert second.ledger_confirmed_at is not None
    for row in ClearanceStatusChange.objects.filter(pk__in=confirmed_first):
        assert row.ledger_confirmed_at == confirmed_first[row.pk]


def test_registrations_and_document_anchors_are_confirmed_too(world, fabric):
    application, requests = sent_for_clearance(world)
    for request in requests.values():
        claim_and_approve(world, request)
    pay_in_full(application)
    approval = registry_services.registration_approve(
        application_id=application.pk, actor=world.lto_admin
    )
    document = document_upload(
        application_id=application.pk,
        uploader=world.lto_admin,
        doc_type="other",
        upload=SimpleUploadedFile("note.pdf", b"%PDF-1.4 a note"),
    )

    with mock.patch("notifications.live._enqueue_push"):
        listen()

    approval = ApplicationStatusChange.objects.get(pk=approval.pk)
    assert approval.ledger_confirmed_at is not None
    document.refresh_from_db()
    assert document.ledger_confirmed_at is not None


class HeldOpen:
    """Makes the next ledger write's database transaction stay open after the ledger
    committed, until released; then it commits, or fails (and rolls back) if asked to."""

    def __init__(self, *, fail: bool) -> None:
        self.fail = fail
        self.written = threading.Event()
        self.release = threading.Event()
        self.ledger = get_ledger()
        self.real_record = self.ledger.record

    def record(self, record):  # type: ignore[no-untyped-def]
        receipt = self.real_record(record)
        self.written.set()
        assert self.release.wait(timeout=30)
        if self.fail:
            raise RuntimeError("the database failed after the ledger committed")
        return receipt


def claim_held_open(world, request, held: HeldOpen) -> threading.Thread:
    def run() -> None:
        try:
            clearance_services.clearance_claim(request_id=request.pk, officer=world.hpg_officer)
        except RuntimeError:
            pass  # the rolled-back case: what the listener must notice
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    with mock.patch.object(held.ledger, "record", held.record):
        thread.start()
        assert held.written.wait(timeout=30)
    return thread


def follow_releasing(held: HeldOpen, change_of_interest) -> list:  # type: ignore[no-untyped-def]
    """Follow the events; once the held change is seen waiting, let its writer finish."""
    outcomes = []
    with mock.patch("notifications.live._enqueue_push"):
        for outcome in follow(get_ledger(), handle=keepers.confirm, idle_seconds=1.0):
            outcomes.append(outcome)
            if outcome.pending:
                change_of_interest.append(outcome.change_id)
                held.release.set()
    return outcomes


@pytest.mark.django_db(transaction=True)
def test_an_event_delivered_before_its_transaction_commits_is_confirmed_after_the_commit(
    fabric,
):
    world = build_world()
    _, requests = sent_for_clearance(world)
    held = HeldOpen(fail=False)
    writer = claim_held_open(world, requests["HPG"], held)

    seen: list[str] = []
    outcomes = follow_releasing(held, seen)
    writer.join(timeout=30)

    assert len(seen) == 1, outcomes
    settled = [o for o in outcomes if o.change_id == seen[0] and not o.pending]
    assert [o.note for o in settled] == ["confirmed"]
    claim = ClearanceStatusChange.objects.get(change_id=seen[0])
    assert claim.ledger_confirmed_at is not None
    checkpoint = ListenerCheckpoint.objects.get()
    assert checkpoint.block_number == claim.ledger_block + 1


@pytest.mark.django_db(transaction=True)
def test_an_event_whose_transaction_rolled_back_is_reported_as_ledger_only_not_lost(fabric):
    world = build_world()
    _, requests = sent_for_clearance(world)
    held = HeldOpen(fail=True)
    writer = claim_held_open(world, requests["HPG"], held)

    seen: list[str] = []
    outcomes = follow_releasing(held, seen)
    writer.join(timeout=30)

    assert len(seen) == 1, outcomes
    settled = [o for o in outcomes if o.change_id == seen[0] and not o.pending]
    assert len(settled) == 1 and settled[0].note.startswith("ledger-only change")
    assert not ClearanceStatusChange.objects.filter(change_id=seen[0]).exists()
    out = StringIO()
    with pytest.raises(Exception, match="difference"):
        call_command("reconcile_ledger", "--idle-seconds", "0.5", stdout=out)
    assert f"ledger change {seen[0]}: has no history row" in out.getvalue()
