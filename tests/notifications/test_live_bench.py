"""bench/live_latency.py says how the owner's socket was lost, instead of timing out bare.

Real parts: a uvicorn server of the test's own (tests.api.live_server) on the test database, the
test Redis as channel layer, and the bench's own measuring code. The pushes run in this process
(eager Celery) to keep the test to the socket; the server is stopped between two decisions as
a deploy or a crash would, and uvicorn closes every open websocket with 1012.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.db import connection

from clearance import services as clearance_services
from tests.api.live_server import server_environment, uvicorn_server
from tests.conftest import findings_for, sent_for_clearance

BENCH = Path(__file__).resolve().parents[2] / "bench" / "live_latency.py"

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("eager_celery")]


def load_bench():
    spec = importlib.util.spec_from_file_location("live_latency_bench", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def owner_session(world) -> str:
    session = SessionStore()
    session["_auth_user_id"] = str(world.owner.pk)
    session["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
    session["_auth_user_hash"] = world.owner.get_session_auth_hash()
    session.create()
    return session.session_key


def claimed_requests(world, count: int) -> list:
    claimed = []
    for _ in range(count):
        _, requests = sent_for_clearance(world)
        clearance_services.clearance_claim(request_id=requests["HPG"].pk, officer=world.hpg_officer)
        claimed.append(requests["HPG"])
    return claimed


def test_the_bench_names_the_server_closing_the_owners_socket_with_its_code(world, tmp_path):
    bench = load_bench()
    first, second = claimed_requests(world, 2)
    session_key = owner_session(world)
    env = server_environment(connection.settings_dict["NAME"])

    with uvicorn_server(env, tmp_path / "uvicorn.log") as server:
        port = int(server.url.rsplit(":", 1)[1])

        def decisions():
            yield first
            server.process.terminate()  # SIGTERM: uvicorn shuts down, closing sockets with 1012
            server.process.wait(timeout=15)
            yield second

        with pytest.raises(SystemExit) as stopped:
            bench.measure(world, decisions(), port, session_key, findings_for)

    message = str(stopped.value)
    assert f"No live event for request {second.pk}" in message
    assert "the server closed the owner's websocket" in message, message
    assert "with code 1012 (service restart)" in message, message
