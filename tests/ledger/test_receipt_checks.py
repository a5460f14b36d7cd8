"""A page's receipts are checked against the ledger once, then read from the shared cache."""

from __future__ import annotations

from django.core.cache import cache

from clearance.models import ClearanceStatusChange
from ledger import receipts
from tests.conftest import claim_and_approve, sent_for_clearance


class _CountingCache:
    """The shared cache, counting the round trips that read it (a spy: the real one answers)."""

    def __init__(self, real) -> None:
        self.real = real
        self.reads = 0

    def get(self, *args, **kwargs):
        self.reads += 1
        return self.real.get(*args, **kwargs)

    def get_many(self, *args, **kwargs):
        self.reads += 1
        return self.real.get_many(*args, **kwargs)

    def __getattr__(self, name):
        return getattr(self.real, name)


def test_a_timeline_s_verified_receipts_come_from_the_cache_in_one_round_trip(world, monkeypatch):
    application, requests = sent_for_clearance(world)
    for request in requests.values():
        claim_and_approve(world, request)
    changes = list(
        ClearanceStatusChange.objects.filter(request__application=application).exclude(
            ledger_tx_id=""
        )
    )
    assert len({change.ledger_tx_id for change in changes}) >= 3
    cache.clear()
    first = receipts.receipt_checks(changes)
    spy = _CountingCache(receipts.cache)
    monkeypatch.setattr(receipts, "cache", spy)

    again = receipts.receipt_checks(changes)

    assert again == first and all(check.ok for check in again.values())
    assert spy.reads == 1
