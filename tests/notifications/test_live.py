"""The live stream over websockets: only signed-in users, only their own events.

These run the real ASGI application (origin check, session auth, routing) against the
channel layer configured from REDIS_URL, and commit for real so that on_commit fires.
"""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from django.conf import settings
from django.db import transaction
from django.test import Client

from notifications import services
from notifications.live import announce_change
from registry.events import REGISTRATION_APPROVED
from tests.conftest import build_world
from tests.notifications.websocket import WebsocketCommunicator

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("eager_celery")]

TIMEOUT = 5


@pytest.fixture
def world_committed():
    return build_world()


def session_cookie(user) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def live_socket(session: str | None = None) -> WebsocketCommunicator:
    """A browser page's socket: same origin, with the session cookie when signed in."""
    from talaan.asgi import application

    headers = [(b"origin", b"http://testserver"), (b"host", b"testserver")]
    if session is not None:
        headers.append((b"cookie", f"{settings.SESSION_COOKIE_NAME}={session}".encode()))
    return WebsocketCommunicator(application, "/ws/live/", headers=headers)


def commit_announcement(**kwargs) -> None:
    """Announce inside a transaction that commits, as a service would."""
    with transaction.atomic():
        announce_change(**kwargs)


def test_an_anonymous_connection_is_closed_with_4401():
    async def scenario():
        socket = live_socket()
        await socket.connect(timeout=TIMEOUT)
        closed = await socket.receive_output(timeout=TIMEOUT)
        await socket.disconnect()
        return closed

    assert async_to_sync(scenario)() == {"type": "websocket.close", "code": 4401}


def test_a_connection_from_a_foreign_origin_is_refused(world_committed):
    from talaan.asgi import application

    async def scenario():
        socket = WebsocketCommunicator(
            application, "/ws/live/", headers=[(b"origin", b"https://evil.example")]
        )
        connected, _ = await socket.connect(timeout=TIMEOUT)
        return connected

    assert async_to_sync(scenario)() is False


def test_a_user_receives_their_own_event_and_not_another_users(world_committed):
    world = world_committed
    owner, other = session_cookie(world.owner), session_cookie(world.other_owner)

    async def scenario():
        mine, theirs = live_socket(owner), live_socket(other)
        assert (await mine.connect(timeout=TIMEOUT))[0]
        assert (await theirs.connect(timeout=TIMEOUT))[0]

        await sync_to_async(commit_announcement)(
            user_ids=[world.owner.pk], event="clearance_changed", application_id=42, request_id=7
        )

        received = await mine.receive_json_from(timeout=TIMEOUT)
        nothing_for_them = await theirs.receive_nothing(timeout=0.5)
        await mine.disconnect()
        await theirs.disconnect()
        return received, nothing_for_them

    received, nothing_for_them = async_to_sync(scenario)()

    assert received == {
        "event": "clearance_changed",
        "application_id": 42,
        "request_id": 7,
        "unread": 0,
    }
    assert nothing_for_them


def test_a_new_notification_updates_the_bell_live_with_the_unread_count(world_committed):
    world = world_committed
    owner = session_cookie(world.owner)

    def notify_owner():
        with transaction.atomic():
            services.notify(
                recipients=[world.owner],
                event=REGISTRATION_APPROVED,
                title="Registration approved",
                body="",
                link="/applications/1/",
            )

    async def scenario():
        socket = live_socket(owner)
        assert (await socket.connect(timeout=TIMEOUT))[0]
        await sync_to_async(notify_owner)()
        await sync_to_async(notify_owner)()
        first = await socket.receive_json_from(timeout=TIMEOUT)
        second = await socket.receive_json_from(timeout=TIMEOUT)
        await socket.disconnect()
        return first, second

    first, second = async_to_sync(scenario)()

    assert first["event"] == second["event"] == "notification"
    assert (first["unread"], second["unread"]) == (1, 2)


def test_subscribing_to_another_users_group_is_refused_with_4403(world_committed):
    world = world_committed
    owner = session_cookie(world.owner)

    async def scenario():
        socket = live_socket(owner)
        assert (await socket.connect(timeout=TIMEOUT))[0]
        await socket.send_json_to({"subscribe": f"user-{world.other_owner.pk}"})
        reply = await socket.receive_json_from(timeout=TIMEOUT)
        closed = await socket.receive_output(timeout=TIMEOUT)
        await socket.disconnect()
        return reply, closed

    reply, closed = async_to_sync(scenario)()

    assert reply == {"error": "forbidden"}
    assert closed == {"type": "websocket.close", "code": 4403}


def test_subscribing_to_ones_own_group_is_acknowledged(world_committed):
    world = world_committed
    owner = session_cookie(world.owner)

    async def scenario():
        socket = live_socket(owner)
        assert (await socket.connect(timeout=TIMEOUT))[0]
        await socket.send_json_to({"subscribe": f"user-{world.owner.pk}"})
        reply = await socket.receive_json_from(timeout=TIMEOUT)
        await socket.disconnect()
        return reply

    assert async_to_sync(scenario)() == {"subscribed": f"user-{world.owner.pk}"}


def test_a_malformed_message_is_refused_like_a_forbidden_one(world_committed):
    world = world_committed
    owner = session_cookie(world.owner)

    async def scenario():
        socket = live_socket(owner)
        assert (await socket.connect(timeout=TIMEOUT))[0]
        await socket.send_to(text_data="{not json")
        reply = await socket.receive_json_from(timeout=TIMEOUT)
        closed = await socket.receive_output(timeout=TIMEOUT)
        await socket.disconnect()
        return reply, closed

    reply, closed = async_to_sync(scenario)()

    assert reply == {"error": "forbidden"}
    assert closed["code"] == 4403


@pytest.mark.slow
def test_a_socket_idle_longer_than_the_redis_read_timeout_still_receives(world_committed):
    # redis-py 8 reads with a 5 s socket timeout by default, as long as channels_redis's
    # blocking pop: without a longer timeout every idle consumer crashed after ~5 s.
    import asyncio

    world = world_committed
    owner = session_cookie(world.owner)

    async def scenario():
        socket = live_socket(owner)
        assert (await socket.connect(timeout=TIMEOUT))[0]
        await asyncio.sleep(7)
        await sync_to_async(commit_announcement)(user_ids=[world.owner.pk], event="late")
        received = await socket.receive_json_from(timeout=TIMEOUT)
        await socket.disconnect()
        return received

    assert async_to_sync(scenario)()["event"] == "late"
