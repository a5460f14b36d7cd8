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
    results: dict[str, ReceiptCheck] = {}
    for change in changes:
        tx_id = getattr(change, "ledger_tx_id", "")
        if not tx_id or tx_id in results:
            continue
        key = f"receipt-check:{ledger.name}:{tx_id}:{change.change_id}"
        cached = _cache_get(key)
        if cached is None:
            try:
                check = ledger.verify_receipt(tx_id=tx_id, change_id=str(change.change_id))
            except Exception as exc:  # an unreachable ledger means "not verified", not a 500
                check = ReceiptCheck(False, f"Could not reach the ledger: {exc}")
            cached = (check.ok, check.detail, check.awaiting_inclusion, check.included_in)
            # An entry awaiting inclusion is checked again next time: it may be in by then.
            if check.ok and not check.awaiting_inclusion:
                _cache_set(key, cached)
        results[tx_id] = ReceiptCheck(*cached)
    return results


# The cache only saves work: with Redis down, pages still render and checks still run.
def _cache_get(key: str) -> Any:
    try:
        return cache.get(key)
    except Exception:
        return None


def _cache_set(key: str, value: Any) -> None:
    try:
        cache.set(key, value, _CACHE_SECONDS)
    except Exception:
        return
