"""The live socket on a real server when its channel layer fails.

Real parts: a uvicorn server of the test's own (tests.api.live_server) on the test database and
a redis-server of the test's own as channel layer (tests.live.own_redis), killed as in a crash.
The client is the `websockets` library, standing in for a browser page.
"""

from __future__ import annotations

import asyncio

import pytest
import websockets
from django.contrib.sessions.backends.db import SessionStore
from django.db import connection

from tests.api.live_server import server_environment, uvicorn_server
from tests.live import own_redis

pytestmark = pytest.mark.django_db(transaction=True)


def owner_cookie(world) -> str:
    session = SessionStore()
    session["_auth_user_id"] = str(world.owner.pk)
    session["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
    session["_auth_user_hash"] = world.owner.get_session_auth_hash()
    session.create()
    return f"sessionid={session.session_key}"


def test_losing_redis_closes_the_socket_with_try_again_later_not_a_dropped_connection(
    world, tmp_path
):
    cookie = owner_cookie(world)
    log = tmp_path / "uvicorn.log"
    with own_redis(tmp_path) as (port, kill_redis, _):
        env = server_environment(
            connection.settings_dict["NAME"], REDIS_URL=f"redis://127.0.0.1:{port}/0"
        )
        with uvicorn_server(env, log) as server:

            async def socket_lost_with_redis() -> websockets.ConnectionClosed:
                async with websockets.connect(
                    server.url.replace("http://", "ws://") + "/ws/live/",
                    additional_headers={"Cookie": cookie, "Origin": server.url},
                ) as socket:
                    kill_redis()
                    try:
                        await asyncio.wait_for(socket.recv(), timeout=20)
                    except websockets.ConnectionClosed as closed:
                        return closed
                raise AssertionError("the socket stayed open without its channel layer")

            closed = asyncio.run(socket_lost_with_redis())
        server_log = log.read_text()

    # A page reads the code (live.js reconnects, then refetches what it missed).
    assert closed.rcvd is not None, f"dropped without a close frame:\n{server_log}"
    assert (closed.rcvd.code, closed.rcvd.reason) == (1013, "live updates interrupted, reconnect")
    assert "Exception in ASGI application" not in server_log, server_log
