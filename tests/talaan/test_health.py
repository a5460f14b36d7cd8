"""Liveness and readiness probes."""

from __future__ import annotations

import pytest

from ledger import adapter
from ledger.base import Health
from tests.live import free_port


def test_healthz_answers_without_touching_anything(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readyz_checks_the_database_and_reports_redis_the_ledger_and_the_stores(client):
    response = client.get("/readyz")
    body = response.json()
    assert response.status_code == 200, body
    assert body["status"] == "ready"
    assert body["checks"] == {"database": {"ok": True}}
    assert {name: check["ok"] for name, check in body["dependencies"].items()} == {
        "redis": True,
        "ledger": True,
        "store:filesystem": True,
    }
    assert body["degraded"] == []


@pytest.mark.django_db
def test_readyz_stays_ready_with_redis_down_and_says_so(client, settings):
    # Redis pointed at a port nobody listens on: what a stopped Redis looks like.
    dead = f"redis://127.0.0.1:{free_port()}/0"
    settings.REDIS_URL = dead
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": dead}
    }

    response = client.get("/readyz")

    body = response.json()
    assert response.status_code == 200, body
    assert body["status"] == "ready"
    assert body["dependencies"]["redis"]["ok"] is False
    assert "onnection" in body["dependencies"]["redis"]["detail"]
    assert body["degraded"] == ["redis"]


@pytest.mark.django_db
def test_readyz_stays_ready_when_the_ledger_is_down_and_says_so(client, monkeypatch):
    class Down:
        def health(self):
            return Health(False, "peer did not answer")

    monkeypatch.setattr(adapter, "configured_ledger", lambda: Down())
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["dependencies"]["ledger"] == {"ok": False, "detail": "peer did not answer"}
    assert body["degraded"] == ["ledger"]


@pytest.mark.django_db
def test_readyz_is_unavailable_when_the_database_is_not(client, monkeypatch):
    from django.db import DatabaseError

    from talaan import health

    # Mocked: stopping the test run's own PostgreSQL would end the test run with it.
    def broken():
        raise DatabaseError("connection to server failed")

    monkeypatch.setattr(health.connection, "cursor", broken)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["database"] == {
        "ok": False,
        "detail": "connection to server failed",
    }


@pytest.mark.django_db
def test_readyz_does_not_wait_for_a_dependency_that_hangs(client, monkeypatch):
    import threading

    from talaan import health

    released = threading.Event()

    class Hanging:
        def health(self):
            released.wait(timeout=30)
            return Health(True, "answered at last")

    monkeypatch.setattr(health, "DEPENDENCY_SECONDS", 0.2)
    monkeypatch.setattr(adapter, "configured_ledger", lambda: Hanging())
    try:
        response = client.get("/readyz")
    finally:
        released.set()

    assert response.status_code == 200
    ledger = response.json()["dependencies"]["ledger"]
    assert ledger == {"ok": False, "detail": "no answer within 0.2 s"}
