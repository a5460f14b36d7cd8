"""The ledger adapter: the only way Django reaches any ledger."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ledger.base import Ledger


def get_ledger() -> Ledger:
    """Return the configured ledger backend (settings.LEDGER_BACKEND)."""
    from ledger.adapter import configured_ledger

    return configured_ledger()
