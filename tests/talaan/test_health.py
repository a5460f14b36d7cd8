"""Liveness and readiness probes."""

from __future__ import annotations

import pytest

from ledger import adapter
from ledger.base import Health


def test_healthz_answers_without_touching_anything(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readyz_checks_database_cache_and_ledger(client):
    response = client.get("/readyz")
    body = response.json()
    assert response.status_code == 200, body
    assert {name: check["ok"] for name, check in body["checks"].items()} == {
        "database": True,
        "cache": True,
        "ledger": True,
    }


@pytest.mark.django_db
def test_readyz_is_unavailable_when_the_ledger_is_not(client, monkeypatch):
    class Down:
        def health(self):
            return Health(False, "peer did not answer")

    monkeypatch.setattr(adapter, "configured_ledger", lambda: Down())
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["ledger"] == {"ok": False, "detail": "peer did not answer"}
