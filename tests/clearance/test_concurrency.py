"""Two officers deciding one request at the same moment: exactly one wins."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from chaincode.rules import ClearanceStatus
from clearance import services as clearance_services
from clearance.models import ClearanceStatusChange
from kernel.errors import Conflict, describe
from ledger.models import LedgerEntry
from tests.conftest import build_world, findings_for, sent_for_clearance

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def race(*calls):
    """Run each call in its own thread and database connection, released at one moment."""
    barrier = threading.Barrier(len(calls))
    outcomes: list[object] = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait()
            outcomes[index] = call()
        except Exception as exc:  # the outcome under test, whatever it is
            outcomes[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


def test_two_officers_deciding_at_once_one_wins_the_other_gets_a_conflict():
    world = build_world()
    _, requests = sent_for_clearance(world)
    request = requests["HPG"]
    clearance_services.clearance_claim(request_id=request.pk, officer=world.hpg_officer)
    entries_before = LedgerEntry.objects.count()

    def decide(officer, decision, remarks):
        return lambda: clearance_services.clearance_decide(
            request_id=request.pk,
            officer=officer,
            decision=decision,
            remarks=remarks,
            findings=findings_for(request),
        )

    outcomes = race(
        decide(world.hpg_officer, ClearanceStatus.APPROVED, "Numbers match."),
        decide(world.hpg_officer_2, ClearanceStatus.RETURNED, "Photo of stencil unreadable."),
    )

    winners = [o for o in outcomes if isinstance(o, ClearanceStatusChange)]
    losers = [o for o in outcomes if isinstance(o, Exception)]
    assert len(winners) == 1 and len(losers) == 1, outcomes
    assert isinstance(losers[0], Conflict)
    assert describe(losers[0]).status == 409
    request.refresh_from_db()
    assert request.status == winners[0].to_status
    decisions = request.status_changes.filter(
        to_status__in=[ClearanceStatus.APPROVED, ClearanceStatus.RETURNED]
    )
    assert decisions.count() == 1
    assert LedgerEntry.objects.count() == entries_before + 1
