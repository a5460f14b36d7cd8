"""Choose the ledger backend from settings, once per process and settings value."""

from __future__ import annotations

from functools import cache

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from ledger.base import Ledger


def configured_ledger() -> Ledger:
    return _build(settings.LEDGER_BACKEND)


@cache
def _build(backend: str) -> Ledger:
    if backend == "embedded":
        from ledger.embedded import EmbeddedLedger

        return EmbeddedLedger()
    if backend == "fabric":
        from ledger.fabric.backend import FabricLedger

        return FabricLedger()
    raise ImproperlyConfigured(
        f"LEDGER_BACKEND={backend!r} is not available; use 'embedded' or 'fabric'."
    )
