"""API keys are checked from the shared cache, and every change to a key, its organisation or
its creator is seen on the very next request, in this process and in a server's."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from organisations.models import ApiKey
from organisations.services import api_key_create, api_key_revoke
from tests.api.live_server import server_environment, uvicorn_server

_direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _key(world) -> tuple[ApiKey, str]:
    return api_key_create(
        organisation_id=world.hpg.pk, admin=world.hpg_admin, name="MVIS", scopes=["read"]
    )


def _key_reads(client: APIClient) -> tuple[int, list[str]]:
    """One request's status and the queries that read the API key table."""
    with CaptureQueriesContext(connection) as queries:
        status = client.get("/api/v1/clearances/").status_code
    return status, [q["sql"] for q in queries if 'FROM "clearance_apikey"' in q["sql"]]


def test_a_key_checked_once_is_checked_again_without_reading_the_database(world):
    _, plaintext = _key(world)
    client = APIClient(HTTP_AUTHORIZATION=f"Bearer {plaintext}")

    first = _key_reads(client)
    again = _key_reads(client)

    assert first[0] == again[0] == 200
    assert len(first[1]) == 1
    assert again[1] == []


class _CountingCache:
    """The shared cache, noting the names read from it (a spy: the real cache answers)."""

    def __init__(self, real) -> None:
        self.real = real
        self.reads: list[str] = []

    def get(self, name, *args, **kwargs):
        self.reads.append(name)
        return self.real.get(name, *args, **kwargs)

    def __getattr__(self, name):
        return getattr(self.real, name)


def test_a_key_used_again_within_the_minute_reads_only_its_own_entry(world, monkeypatch):
    from organisations import key_cache

    key, plaintext = _key(world)
    client = APIClient(HTTP_AUTHORIZATION=f"Bearer {plaintext}")
    assert client.get("/api/v1/clearances/").status_code == 200
    spy = _CountingCache(key_cache.cache)
    monkeypatch.setattr(key_cache, "cache", spy)

    assert client.get("/api/v1/clearances/").status_code == 200

    # This process recorded the use a moment ago: no round trip to ask whether any did.
    assert spy.reads == [f"api-key:v1:{key.prefix}"]


def test_a_revoked_key_is_refused_on_the_very_next_request(world):
    key, plaintext = _key(world)
    client = APIClient(HTTP_AUTHORIZATION=f"Bearer {plaintext}")
    assert [client.get("/api/v1/clearances/").status_code for _ in range(2)] == [200, 200]

    api_key_revoke(key_id=key.pk, admin=world.hpg_admin)
    response = client.get("/api/v1/clearances/")

    assert response.status_code == 401
    assert "revoked" in response.json()["detail"]


def test_a_deactivated_creator_or_organisation_is_refused_on_the_very_next_request(world):
    _, by_admin = _key(world)
    _, other = _key(world)
    for plaintext in (by_admin, other):
        assert APIClient(HTTP_X_API_KEY=plaintext).get("/api/v1/clearances/").status_code == 200

    world.hpg_admin.is_active = False
    world.hpg_admin.save(update_fields=["is_active"])
    assert APIClient(HTTP_X_API_KEY=by_admin).get("/api/v1/clearances/").status_code == 401

    world.hpg_admin.is_active = True
    world.hpg_admin.save(update_fields=["is_active"])
    world.hpg.is_active = False
    world.hpg.save()
    assert APIClient(HTTP_X_API_KEY=other).get("/api/v1/clearances/").status_code == 401


def _status(url: str, token: str) -> int:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    try:
        with _direct.open(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as refused:
        json.load(refused)
        return refused.code


@pytest.mark.django_db(transaction=True)
def test_a_key_revoked_here_is_refused_by_a_server_that_had_it_cached(world, tmp_path):
    # The server is another process; what they share is the database and Redis.
    key, plaintext = _key(world)
    env = server_environment(connection.settings_dict["NAME"])
    with uvicorn_server(env, tmp_path / "uvicorn.log") as server:
        url = f"{server.url}/api/v1/clearances/"
        assert [_status(url, plaintext) for _ in range(2)] == [200, 200]

        api_key_revoke(key_id=key.pk, admin=world.hpg_admin)

        assert _status(url, plaintext) == 401
