"""A live event is published by the committing process itself, with no task queue between the
commit and the socket; only when the channel layer cannot be reached (down, or too slow) does
the push_live task take it, queued on the broker, and deliver it once run.

Real parts: the ASGI application and its channel layer on the Redis scripts/with-services
starts, and that Redis as the Celery broker, read directly to see what was queued. No Celery
worker runs: whatever arrives without one came straight from the commit. A channel layer that
cannot be reached is a Redis URL on a closed port; a slow one, a port that accepts
connections and never answers.
"""

from __future__ import annotations

import base64
import json
import socket
from collections.abc import Iterator

import pytest
import redis
from asgiref.sync import async_to_sync, sync_to_async
from django.conf import settings

from notifications.tasks import push_live
from tests.live import free_port
from tests.notifications.test_live import TIMEOUT, commit_announcement, live_socket, session_cookie

pytestmark = pytest.mark.django_db(transaction=True)

PUSH_LIVE = "notifications.tasks.push_live"


@pytest.fixture
def no_worker():
    """Tasks go to the broker and stay there, as with every worker stopped."""
    from talaan.celery import app as celery_app

    if not settings.REDIS_URL:
        pytest.fail("These tests need Redis: run them under scripts/with-services.")
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    yield
    celery_app.conf.task_always_eager = eager


def queued_pushes() -> list[list]:
    """The args of every push_live task waiting on the broker's default queue, oldest first
    (kombu pushes new messages on the list's head)."""
    broker = redis.Redis.from_url(settings.REDIS_URL)
    found = []
    for raw in reversed(broker.lrange("celery", 0, -1)):
        message = json.loads(raw)
        if message["headers"]["task"] == PUSH_LIVE:
            args, _kwargs, _embed = json.loads(base64.b64decode(message["body"]))
            found.append(args)
    return found


def unreachable_layer(settings, port: int) -> None:
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [{"address": f"redis://127.0.0.1:{port}/0"}]},
        }
    }


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port whose connections open and are never answered: Redis hung, or a black hole."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        yield listener.getsockname()[1]


def test_an_event_reaches_the_socket_with_no_worker_running_and_nothing_queued(world, no_worker):
    owner = session_cookie(world.owner)
    before = queued_pushes()

    async def scenario():
        socket = live_socket(owner)
        assert (await socket.connect(timeout=TIMEOUT))[0]
        await sync_to_async(commit_announcement)(
            user_ids=[world.owner.pk], event="clearance_changed", application_id=3, request_id=9
        )
        received = await socket.receive_json_from(timeout=TIMEOUT)
        await socket.disconnect()
        return received

    received = async_to_sync(scenario)()

    assert received == {
        "event": "clearance_changed",
        "application_id": 3,
        "request_id": 9,
        "unread": 0,
    }
    assert queued_pushes() == before


def test_with_the_channel_layer_down_the_event_is_queued_and_the_task_delivers_it(
    world, no_worker, settings
):
    owner = session_cookie(world.owner)
    before = len(queued_pushes())
    working_layers = settings.CHANNEL_LAYERS
    unreachable_layer(settings, free_port())

    commit_announcement(user_ids=[world.owner.pk], event="ledger_confirmed", application_id=5)

    queued = queued_pushes()[before:]
    payload = {"event": "ledger_confirmed", "application_id": 5, "request_id": None}
    assert queued == [[[world.owner.pk], payload]]

    # What a worker does with it once there is one, with the layer back.
    settings.CHANNEL_LAYERS = working_layers

    async def scenario():
        socket = live_socket(owner)
        assert (await socket.connect(timeout=TIMEOUT))[0]
        await sync_to_async(push_live.apply)(args=queued[0])
        received = await socket.receive_json_from(timeout=TIMEOUT)
        await socket.disconnect()
        return received

    assert async_to_sync(scenario)() == {**payload, "unread": 0}


def test_a_channel_layer_that_never_answers_is_given_up_on_and_the_event_queued(
    world, no_worker, settings, silent_port
):
    before = len(queued_pushes())
    settings.LIVE_PUBLISH_TIMEOUT = 0.2
    unreachable_layer(settings, silent_port)

    commit_announcement(user_ids=[world.owner.pk, world.other_owner.pk], event="notification")

    payload = {"event": "notification", "application_id": None, "request_id": None}
    assert queued_pushes()[before:] == [[sorted([world.owner.pk, world.other_owner.pk]), payload]]
