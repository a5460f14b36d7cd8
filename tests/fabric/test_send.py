"""Sending an application to its three organisations: one round of ledger writes, retryable.

The three UpdateClearanceStatus writes of a send are independent keys, so they go to the
peer together. When one fails, nothing is saved and the user may retry: the retry's change
ids are the same, so the peer answers the writes that committed from what it recorded and
records the rest.
"""

from __future__ import annotations

import json
import threading
from io import StringIO
from unittest import mock

import pytest
from django.core.management import call_command

from audit.verification import history_problems, state_problems
from chaincode.rules import ApplicationStatus
from clearance import services as clearance_services
from clearance.models import ClearanceRequest, ClearanceStatusChange
from ledger import get_ledger
from ledger.exceptions import LedgerUnavailable
from registry import services as registry_services
from tests.conftest import filed_application


def reviewed(world):
    application = filed_application(world)
    registry_services.application_start_review(application_id=application.pk, actor=world.lto_admin)
    return application


def send(world, application):
    return clearance_services.clearance_send_for_clearance(
        application_id=application.pk, actor=world.lto_admin
    )


def listen() -> str:
    out = StringIO()
    with mock.patch("notifications.live._enqueue_push"):
        call_command("ledger_listen", "--idle-seconds", "0.5", stdout=out)
    return out.getvalue()


def clearance_writes(fabric) -> dict[str, str]:
    """change id → tx id of every clearance change the peer committed."""
    writes = {}
    for tx in fabric.committed():
        if tx.event is not None and tx.event.event_name == "ClearanceStatusUpdated":
            writes[json.loads(tx.event.payload)["change_id"]] = tx.tx_id
    return writes


def test_the_three_writes_of_a_send_are_in_flight_at_once(world, fabric):
    application = reviewed(world)
    # Each endorsement waits for two others: writes made one after another would time out.
    fabric.endorse_barrier = threading.Barrier(3, timeout=3)

    requests = send(world, application)

    fabric.endorse_barrier = None
    assert sorted(request.kind for request in requests) == ["EMISSION", "HPG", "INSURANCE"]
    assert len(clearance_writes(fabric)) == 3


def test_a_send_with_one_failed_write_saves_nothing_and_its_retry_records_the_rest(world, fabric):
    application = reviewed(world)
    fabric.unavailable_for = {"EMISSION"}

    with pytest.raises(LedgerUnavailable):
        send(world, application)

    application.refresh_from_db()
    assert application.status == ApplicationStatus.UNDER_REVIEW
    assert not ClearanceRequest.objects.filter(application=application).exists()
    first_round = clearance_writes(fabric)
    assert len(first_round) == 2  # HPG and insurance committed; Fabric cannot take them back

    # The listener sees the two committed writes while no row has them: ledger-only, so far.
    assert "ledger-only change" in listen()

    fabric.unavailable_for = set()
    requests = send(world, application)

    assert sorted(request.kind for request in requests) == ["EMISSION", "HPG", "INSURANCE"]
    second_round = clearance_writes(fabric)
    assert len(second_round) == 3  # only the emission write was new
    rows = ClearanceStatusChange.objects.filter(request__application=application)
    assert {str(row.change_id): row.ledger_tx_id for row in rows} == second_round
    for change_id, tx_id in first_round.items():
        assert rows.get(change_id=change_id).ledger_tx_id == tx_id  # the replay's receipt
    listen()
    assert all(row.ledger_confirmed_at is not None for row in rows.all())
    ledger = get_ledger()
    assert history_problems(backend="fabric", ledger_change=ledger.get_change) == []
    assert state_problems(ledger) == []
