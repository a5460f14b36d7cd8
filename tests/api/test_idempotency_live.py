"""An ``Idempotency-Key`` held by a server that is killed mid-request is free for the retry.

Real parts: uvicorn servers (tests.api.live_server) on the test database, killed with
SIGKILL; PostgreSQL, where a second session holds the application's row so the first
request stops mid-way (after claiming its key, before its claim commits) and stays there
until the server is killed.
"""

from __future__ import annotations

import json
import signal
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass

import psycopg
import pytest
from django.db import connection

from api.models import IdempotencyRecord
from clearance.models import ClearanceRequest, ClearanceStatusChange
from organisations.services import api_key_create
from registry.models import RegistrationApplication
from tests.api.live_server import server_environment, uvicorn_server
from tests.conftest import sent_for_clearance

WAIT = 30.0
_direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: dict


def _post(url: str, token: str, idempotency_key: str, timeout: float = WAIT) -> Answer:
    request = urllib.request.Request(
        url,
        data=b"",
        method="POST",
        headers={"Authorization": f"Bearer {token}", "Idempotency-Key": idempotency_key},
    )
    try:
        with _direct.open(request, timeout=timeout) as response:
            return Answer(response.status, dict(response.headers), json.load(response))
    except urllib.error.HTTPError as refused:
        return Answer(refused.code, dict(refused.headers), json.load(refused))


def _wait_until(condition: Callable[[], object], what: str) -> None:
    deadline = time.monotonic() + WAIT
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"Waited {WAIT:g} s for: {what}")
        time.sleep(0.05)


def _conninfo() -> str:
    settings = connection.settings_dict
    return psycopg.conninfo.make_conninfo(
        dbname=settings["NAME"],
        user=settings["USER"],
        host=settings["HOST"],
        port=settings["PORT"],
        password=settings["PASSWORD"] or None,
    )


def _sessions_waiting_for_a_lock(probe: psycopg.Connection) -> list[int]:
    rows = probe.execute(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
        "AND wait_event_type = 'Lock'"
    ).fetchall()
    return [pid for (pid,) in rows]


def _session_alive(probe: psycopg.Connection, pid: int) -> bool:
    return bool(probe.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone())


@pytest.mark.django_db(transaction=True)
def test_a_key_held_by_a_killed_server_is_free_for_the_retry(world, tmp_path):
    application, requests = sent_for_clearance(world)
    hpg = requests["HPG"]
    _, token = api_key_create(
        organisation_id=world.hpg.pk, admin=world.hpg_admin, name="MVIS", scopes=["decide"]
    )
    env = server_environment(connection.settings_dict["NAME"])
    log = tmp_path / "uvicorn.log"
    key = "b3f0c9e2-claim-after-crash"
    table = RegistrationApplication._meta.db_table
    first_answer: list[object] = []

    with (
        psycopg.connect(_conninfo(), autocommit=True) as probe,
        psycopg.connect(_conninfo()) as blocker,
    ):
        # The claim locks the application first: holding it stops the request mid-way.
        blocker.execute(f"SELECT id FROM {table} WHERE id = %s FOR UPDATE", [application.pk])
        with uvicorn_server(env, log) as server:
            claim_url = f"{server.url}/api/v1/clearances/{hpg.pk}/claim/"

            def first() -> None:
                try:
                    first_answer.append(_post(claim_url, token, key))
                except OSError as lost:  # the server is killed under it
                    first_answer.append(lost)

            thread = threading.Thread(target=first)
            thread.start()
            _wait_until(
                lambda: (
                    IdempotencyRecord.objects.filter(key=key).exists()
                    and _sessions_waiting_for_a_lock(probe)
                ),
                "the first request to claim its key and wait for the application's row",
            )
            [server_session] = _sessions_waiting_for_a_lock(probe)

            retry_meanwhile = _post(claim_url, token, key)

            server.process.send_signal(signal.SIGKILL)
            server.process.wait(timeout=WAIT)
            thread.join(WAIT)
        # The dead server's database session runs into its closed socket and ends.
        blocker.rollback()
        _wait_until(
            lambda: not _session_alive(probe, server_session),
            "the killed server's database session to end",
        )

    with uvicorn_server(env, log) as server:
        retry_after_crash = _post(f"{server.url}/api/v1/clearances/{hpg.pk}/claim/", token, key)

    assert isinstance(first_answer[0], OSError), first_answer
    # Not stuck for 24 hours: the retry runs the claim, which the killed request never made.
    assert retry_after_crash.status == 200, retry_after_crash
    assert "Idempotent-Replayed" not in retry_after_crash.headers
    # While the first request held the key, a retry was told to come back shortly.
    assert retry_meanwhile.status == 409, retry_meanwhile
    assert retry_meanwhile.body["code"] == "conflict"
    assert retry_meanwhile.body["retryable"] is True
    assert 1 <= int(retry_meanwhile.headers["Retry-After"]) <= 10
    assert ClearanceRequest.objects.get(pk=hpg.pk).status == "in_review"
    assert ClearanceStatusChange.objects.filter(request=hpg, to_status="in_review").count() == 1
    assert IdempotencyRecord.objects.get(key=key).state == IdempotencyRecord.State.DONE
