"""Thin Celery tasks of the API: they call a service and declare their limits."""

from __future__ import annotations

from celery import shared_task

from api.idempotency import idempotency_keys_purge


@shared_task(soft_time_limit=240, time_limit=280)
def purge_idempotency_keys() -> int:
    """Forget Idempotency-Key records older than 24 hours."""
    return idempotency_keys_purge()
