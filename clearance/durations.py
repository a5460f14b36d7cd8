"""How long each organisation usually takes to decide: the median time from a request being
sent to its decision, over its recent decided requests.

The application page shows it beside each check. It is read in one query for the
organisations not cached yet and cached for a while: a median moves slowly, and the page's
query budget (tests/test_query_budgets.py) does not grow with it.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from datetime import timedelta
from typing import Any

from django.core.cache import cache
from django.utils import timezone

from clearance.models import ClearanceRequest

CACHE_SECONDS = 15 * 60
# Recent enough to say how the organisation works now; enough rows for a steady median.
WINDOW = timedelta(days=180)
MOST_ROWS = 5000


def _key(organisation_id: int) -> str:
    return f"clearance-decision-median:v1:{organisation_id}"


def decision_medians(organisation_ids: set[int]) -> dict[int, tuple[timedelta | None, int]]:
    """Each organisation's (median time to decide, number of decided requests it is from)."""
    if not organisation_ids:
        return {}
    cached = _cache_get_many([_key(pk) for pk in organisation_ids])
    found: dict[int, tuple[timedelta | None, int]] = {}
    for pk in organisation_ids:
        value = cached.get(_key(pk))
        if value is not None:
            seconds, count = value
            found[pk] = (None if seconds is None else timedelta(seconds=seconds), count)
    missing = organisation_ids - found.keys()
    if missing:
        durations: dict[int, list[float]] = defaultdict(list)
        rows = (
            ClearanceRequest.objects.filter(
                organisation_id__in=missing,
                decided_at__isnull=False,
                decided_at__gte=timezone.now() - WINDOW,
            )
            .order_by("-decided_at")
            .values_list("organisation_id", "created_at", "decided_at")[:MOST_ROWS]
        )
        for organisation_id, sent, decided in rows:
            assert decided is not None  # filtered above
            durations[organisation_id].append(max((decided - sent).total_seconds(), 0.0))
        fresh = {}
        for pk in missing:
            seconds = statistics.median(durations[pk]) if durations[pk] else None
            count = len(durations[pk])
            found[pk] = (None if seconds is None else timedelta(seconds=seconds), count)
            fresh[_key(pk)] = (seconds, count)
        _cache_set_many(fresh)
    return found


def forget_decision_medians(organisation_ids: set[int]) -> None:
    """Drop the cached medians (tests; an operator after correcting data)."""
    try:
        cache.delete_many([_key(pk) for pk in organisation_ids])
    except Exception:
        return


# The cache only saves work: with Redis down the page still renders, one query dearer.
def _cache_get_many(keys: list[str]) -> dict[str, Any]:
    try:
        return cache.get_many(keys)
    except Exception:
        return {}


def _cache_set_many(values: dict[str, Any]) -> None:
    try:
        cache.set_many(values, CACHE_SECONDS)
    except Exception:
        return
