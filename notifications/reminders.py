"""Scheduled reminders, told once per occurrence: the helpers the apps' reminder jobs share.

A job may run as often as wanted. Each occurrence has a dedupe key, so a rerun (or two beat
processes racing) never tells anyone twice. Each occurrence is written in its own
transaction: one bad row must not undo the reminders already written.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, TypeVar

from django.db import IntegrityError, transaction

from notifications.models import Notification
from notifications.services import notify

T = TypeVar("T")

_BATCH = 500


def not_yet_sent(keyed: list[tuple[str, T]]) -> Iterator[tuple[str, T]]:
    """The (key, item) pairs whose key nobody has been notified with yet, in batches."""
    for start in range(0, len(keyed), _BATCH):
        batch = keyed[start : start + _BATCH]
        used = set(
            Notification.objects.filter(dedupe_key__in=[key for key, _ in batch]).values_list(
                "dedupe_key", flat=True
            )
        )
        yield from ((key, item) for key, item in batch if key not in used)


def notify_once(*, dedupe_key: str, **message: Any) -> int:
    try:
        with transaction.atomic():
            return len(notify(dedupe_key=dedupe_key, **message))
    except IntegrityError:
        # A concurrent run wrote the same key first; the unique constraint kept it to once.
        return 0
