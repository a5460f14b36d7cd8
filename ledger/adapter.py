"""Choose the ledger backend from settings, once per process and settings value.

``LEDGER_BACKEND`` is the dotted path of a ``Ledger`` subclass; the short names of the
backends that ship with Talaan are aliases of theirs.
"""

from __future__ import annotations

from functools import cache

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from ledger.base import Ledger

BACKEND_ALIASES = {
    "embedded": "ledger.embedded.EmbeddedLedger",
    "fabric": "ledger.fabric.backend.FabricLedger",
}


def configured_ledger() -> Ledger:
    return _build(settings.LEDGER_BACKEND)


@cache
def _build(backend: str) -> Ledger:
    path = BACKEND_ALIASES.get(backend, backend)
    try:
        backend_class = import_string(path)
    except ImportError as exc:
        raise ImproperlyConfigured(
            f"LEDGER_BACKEND={backend!r} is not available ({exc}); use "
            f"{' or '.join(map(repr, BACKEND_ALIASES))}, or the dotted path of a Ledger class."
        ) from exc
    if not (isinstance(backend_class, type) and issubclass(backend_class, Ledger)):
        raise ImproperlyConfigured(f"LEDGER_BACKEND={backend!r} does not name a Ledger class.")
    return backend_class()
