"""DATABASE_POOL_SIZE: under ASGI each request runs in a thread of its own, so without a pool
every request opened a new PostgreSQL connection; with one, requests share the pool's."""

from __future__ import annotations

import urllib.request

import pytest
from django.db import connection

from organisations.services import api_key_create
from tests.api.live_server import server_environment, uvicorn_server

_direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _server_backends() -> set[int]:
    """The PostgreSQL sessions on the test database other than this test's own."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid()"
        )
        return {pid for (pid,) in cursor.fetchall()}


@pytest.mark.django_db(transaction=True)
def test_requests_through_a_pooled_server_share_its_connections(world, tmp_path):
    _, plaintext = api_key_create(
        organisation_id=world.hpg.pk, admin=world.hpg_admin, name="MVIS", scopes=["read"]
    )
    env = server_environment(connection.settings_dict["NAME"], DATABASE_POOL_SIZE="2")
    seen: list[set[int]] = []
    with uvicorn_server(env, tmp_path / "uvicorn.log") as server:
        request = urllib.request.Request(
            f"{server.url}/api/v1/clearances/", headers={"Authorization": f"Bearer {plaintext}"}
        )
        for _ in range(8):
            with _direct.open(request, timeout=30) as response:
                assert response.status == 200
            seen.append(_server_backends())

    # The same one or two sessions stay open between requests and serve all of them (without
    # the pool each request's connection was a new session, closed when it ended).
    assert all(seen), seen
    assert len(set().union(*seen)) <= 2, seen
