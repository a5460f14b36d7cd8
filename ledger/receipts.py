"""Checking receipts shown on pages against the ledger, cached briefly per transaction."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.cache import cache

from ledger import get_ledger
from ledger.base import ReceiptCheck

# Long enough to keep a busy timeline cheap, short enough that tampering shows within a minute.
_CACHE_SECONDS = 60


def receipt_checks(changes: Iterable[Any]) -> dict[str, ReceiptCheck]:
    """Map each change's ledger tx id to the result of checking it against the ledger."""
    ledger = get_ledger()
    # tx id -> (its cache key, the change id it records), from the first change naming it.
    wanted: dict[str, tuple[str, str]] = {}
    for change in changes:
        tx_id = getattr(change, "ledger_tx_id", "")
        if tx_id and tx_id not in wanted:
            change_id = str(change.change_id)
            wanted[tx_id] = (f"receipt-check:{ledger.name}:{tx_id}:{change_id}", change_id)
    # One round trip for a timeline's receipts, not one per receipt.
    known = _cache_get_many([key for key, _ in wanted.values()])
    results: dict[str, ReceiptCheck] = {}
    for tx_id, (key, change_id) in wanted.items():
        cached = known.get(key)
        if cached is None:
            try:
                check = ledger.verify_receipt(tx_id=tx_id, change_id=change_id)
            except Exception as exc:  # an unreachable ledger means "not verified", not a 500
                check = ReceiptCheck(False, f"Could not reach the ledger: {exc}")
            cached = (check.ok, check.detail, check.awaiting_inclusion, check.included_in)
            # An entry awaiting inclusion is checked again next time: it may be in by then.
            if check.ok and not check.awaiting_inclusion:
                _cache_set(key, cached)
        results[tx_id] = ReceiptCheck(*cached)
    return results


# The cache only saves work: with Redis down, pages still render and checks still run.
def _cache_get_many(keys: list[str]) -> dict[str, Any]:
    if not keys:
        return {}
    try:
        return cache.get_many(keys)
    except Exception:
        return {}


def _cache_set(key: str, value: Any) -> None:
    try:
        cache.set(key, value, _CACHE_SECONDS)
    except Exception:
        return
