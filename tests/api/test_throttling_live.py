"""The rate limit against a real server: exact under concurrency, and kept while Redis is down.

Real parts: uvicorn servers (tests.api.live_server) on the test database, and Redis: the one
scripts/with-services starts, or for the outage a redis-server of the test's own, killed
with SIGKILL and started again empty on the same port, as after a crash. The clients are
threads here making HTTP requests.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from dataclasses import dataclass

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.db import connection

from clearance.models import ClearanceRequest, ClearanceStatusChange
from organisations.services import api_key_create
from tests.api.live_server import server_environment, uvicorn_server
from tests.conftest import sent_for_clearance
from tests.live import own_redis

_direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))
FALLBACK_LOGGED = "Rate limits are counted in each process until Redis answers again"


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: dict


def _call(url: str, headers: dict[str, str], *, method: str = "GET") -> Answer:
    data = b"" if method == "POST" else None
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with _direct.open(request, timeout=30) as response:
            return Answer(response.status, dict(response.headers), json.load(response))
    except urllib.error.HTTPError as refused:
        return Answer(refused.code, dict(refused.headers), json.load(refused))


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _key(world, *scopes: str) -> str:
    _, token = api_key_create(
        organisation_id=world.hpg.pk, admin=world.hpg_admin, name="MVIS", scopes=list(scopes)
    )
    return token


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_clients_on_one_key_get_no_more_than_its_limit(world, tmp_path):
    # Per hour, so however slowly this machine answers, every request falls in one window.
    limit = 30
    env = server_environment(connection.settings_dict["NAME"], API_THROTTLE_KEY=f"{limit}/hour")
    headers = _bearer(_key(world, "read"))
    statuses: Counter[int] = Counter()
    guard = threading.Lock()

    with uvicorn_server(env, tmp_path / "uvicorn.log") as server:
        start = threading.Barrier(20)

        def client() -> None:
            start.wait()
            for _ in range(6):
                answer = _call(f"{server.url}/api/v1/clearances/", headers)
                with guard:
                    statuses[answer.status] += 1

        threads = [threading.Thread(target=client) for _ in range(20)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)

    assert sum(statuses.values()) == 120, statuses
    assert set(statuses) == {200, 429}, statuses
    assert statuses[200] <= limit * 1.1, statuses
    assert statuses[200] == limit, statuses  # and nobody was refused below the limit


def _owner_session(world) -> dict[str, str]:
    session = SessionStore()
    session["_auth_user_id"] = str(world.owner.pk)
    session["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
    session["_auth_user_hash"] = world.owner.get_session_auth_hash()
    session.create()
    return {"Cookie": f"sessionid={session.session_key}"}


@pytest.mark.django_db(transaction=True)
def test_with_redis_down_the_api_serves_and_each_process_keeps_its_share_of_the_limit(
    world, tmp_path
):
    application, requests = sent_for_clearance(world)
    reader, writer = _bearer(_key(world, "read")), _bearer(_key(world, "decide"))
    owner = _owner_session(world)
    log = tmp_path / "uvicorn.log"
    with own_redis(tmp_path) as (port, kill_redis, start_redis):
        env = server_environment(
            connection.settings_dict["NAME"],
            REDIS_URL=f"redis://127.0.0.1:{port}/0",
            CELERY_BROKER_URL=f"redis://127.0.0.1:{port}/0",
            API_THROTTLE_KEY="6/hour",
            # Two web processes share the limit while Redis is down: 3 each.
            API_THROTTLE_PROCESSES="2",
        )
        with uvicorn_server(env, log) as server:
            clearances = f"{server.url}/api/v1/clearances/"
            before = [_call(clearances, reader).status for _ in range(2)]

            kill_redis()
            during = [_call(clearances, reader) for _ in range(3)]
            claim = _call(f"{clearances}{requests['HPG'].pk}/claim/", writer, method="POST")
            own = _call(f"{server.url}/api/v1/applications/{application.pk}/", owner)
            # Checked against the ledger, with the receipt cache (Redis) away.
            tx_id = ClearanceStatusChange.objects.get(
                request=requests["HPG"], to_status="in_review"
            ).ledger_tx_id
            receipt = _call(f"{server.url}/api/v1/ledger/receipts/{tx_id}/", writer)

            start_redis()  # empty, as after a crash
            # Past the limiter's pause (REDIS_RETRY_SECONDS) before it asks a failed Redis again.
            time.sleep(1.5)
            after = [_call(clearances, reader).status for _ in range(4)]
        server_log = log.read_text()

    assert before == [200, 200]
    # This process had allowed 2 of its 3 while Redis answered: one more, then 429.
    assert [a.status for a in during] == [200, 429, 429], [a.body for a in during]
    assert during[1].body["code"] == "throttled"
    assert int(during[1].headers["Retry-After"]) >= 1
    # Writes, sessions and ledger checks work too; only notifications wait for Redis.
    assert claim.status == 200, claim.body
    assert ClearanceRequest.objects.get(pk=requests["HPG"].pk).status == "in_review"
    assert own.status == 200, own.body
    assert (receipt.status, receipt.body["verified"]) == (200, True), receipt.body
    assert server_log.count(FALLBACK_LOGGED) == 1, server_log
    # Redis came back empty and was handed the 3 this process allowed: 3 more of the 6.
    assert after == [200, 200, 200, 429]
