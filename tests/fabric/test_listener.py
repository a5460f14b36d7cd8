"""ledger_listen confirms each change's block from the chaincode events, from a checkpoint."""

from __future__ import annotations

from io import StringIO
from unittest import mock

from django.core.management import call_command

from clearance.models import ClearanceStatusChange
from ledger.models import ListenerCheckpoint
from tests.conftest import claim_and_approve, sent_for_clearance


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
