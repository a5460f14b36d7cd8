"""Live updates: after a change commits, tell the people concerned through Channels.

The flow is one way: service -> on_commit -> channel_layer.group_send -> consumer. Services
call ``announce_change``; nothing here runs before the commit. The commit's own process
publishes at once (no task queue between the commit and the socket, so no worker's latency
or backlog); only when the channel layer cannot be reached within ``LIVE_PUBLISH_TIMEOUT``
does the push go to the Celery task ``push_live``, which retries (STYLE rule 15).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from functools import partial

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import transaction

from notifications.queueing import queue_or_log
from notifications.selectors import unread_counts

logger = logging.getLogger(__name__)


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


def push(
    user_ids: list[int],
    payload: dict,
    *,
    timeout: float | None = None,
    reached: list[int] | None = None,
) -> None:
    """Send ``payload``, with each user's unread count, to each user's group, adding each
    user reached to ``reached``. Raises when the layer fails or ``timeout`` (seconds)
    passes; those reached before stay reached (a second push only refreshes a page twice)."""
    unread = unread_counts(user_ids)
    layer = get_channel_layer()
    reached = [] if reached is None else reached

    async def send_all() -> None:
        # One event loop (and one set of Redis connections) for every recipient, not one each.
        for user_id in user_ids:
            message = {**payload, "type": "live.event", "unread": unread.get(user_id, 0)}
            await layer.group_send(user_group(user_id), message)
            reached.append(user_id)

    async def within_timeout() -> None:
        await asyncio.wait_for(send_all(), timeout)

    async_to_sync(within_timeout)()


# The after-commit hook keeps its name from when it only queued the push: bench/live_latency.py
# and tests wrap or patch it by that name.
def _enqueue_push(user_ids: list[int], payload: dict) -> None:
    reached: list[int] = []
    try:
        push(user_ids, payload, timeout=settings.LIVE_PUBLISH_TIMEOUT, reached=reached)
        return
    except Exception:  # the layer is down or slow: the queue takes the users not yet reached
        logger.warning("Live update not published directly; queueing it", exc_info=True)
    # A broker outage as well delays live updates; the pages still show the truth on reload.
    rest = [user_id for user_id in user_ids if user_id not in reached]
    queue_or_log(
        "notifications.tasks.push_live", rest, payload, failure="Could not queue a live update"
    )
