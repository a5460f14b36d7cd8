"""Live updates: after a change commits, tell the people concerned through Channels.

The flow is one way: service -> on_commit -> Celery task -> channel_layer.group_send ->
consumer. Services call ``announce_change``; nothing here runs before the commit.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial

from django.db import transaction

from notifications.queueing import queue_or_log


def user_group(user_id: int) -> str:
    """The Channels group of one user's open pages (see notifications.consumers)."""
    return f"user-{user_id}"


def announce_change(
    *,
    user_ids: Iterable[int],
    event: str,
    application_id: int | None = None,
    request_id: int | None = None,
) -> None:
    """After commit, push ``event`` to each user's live stream (open pages refresh)."""
    ids = sorted({int(pk) for pk in user_ids})
    if not ids:
        return
    payload = {"event": event, "application_id": application_id, "request_id": request_id}
    transaction.on_commit(partial(_enqueue_push, ids, payload))


def _enqueue_push(user_ids: list[int], payload: dict) -> None:
    # A broker outage delays live updates; the pages still show the truth on reload.
    queue_or_log(
        "notifications.tasks.push_live", user_ids, payload, failure="Could not queue a live update"
    )
