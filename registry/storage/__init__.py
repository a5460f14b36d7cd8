"""Where documents live: one Django storage per configured backend (settings.STORAGES)."""

from __future__ import annotations

from django.conf import settings
from django.core.files.storage import Storage, storages


def document_storage(backend: str | None = None) -> Storage:
    """The storage for ``backend`` (default: where new uploads go, settings.DOCUMENT_STORAGE)."""
    return storages[f"documents:{backend or settings.DOCUMENT_STORAGE}"]


def encrypts_before_storing(storage: Storage) -> bool:
    """Whether files must be sealed before this storage sees them (content-addressed, public)."""
    return getattr(storage, "content_is_public", False)
