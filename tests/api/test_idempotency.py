"""Idempotency-Key on POSTs: replay, refusal of a reused key, in-flight conflict, expiry."""

from __future__ import annotations

import datetime as dt
import json
import re
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict

import pytest
from django.db import connection
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator

from api.holds import held
from api.idempotency import hold_name, idempotency_keys_purge
from api.models import IdempotencyRecord
from clearance.models import ClearanceRequest, ClearanceStatusChange
from ledger.models import LedgerEntry
from organisations.models import ApiKey
from tests.api.conftest import Office, client_for
from tests.api.test_problems import assert_problem
from tests.factories import hpg_findings


def _approval(request: ClearanceRequest, **overrides) -> dict:
    findings = asdict(hpg_findings(request.application.vehicle, **overrides))
    return {"decision": "approved", "remarks": "Checked.", "findings": findings}


def _post(client, path: str, payload: dict | None, key: str):
    return client.post(path, payload, format="json", HTTP_IDEMPOTENCY_KEY=key)


def _claim(office: Office, caller: str, key: str):
    request = office.requests["HPG"]
    return _post(client_for(office, caller), f"/api/v1/clearances/{request.pk}/claim/", None, key)


def test_the_same_key_and_body_replays_the_first_response_and_records_once(office):
    request = office.requests["HPG"]
    client = client_for(office, "hpg_decide_key")
    path = f"/api/v1/clearances/{request.pk}/claim/"
    key = str(uuid.uuid4())

    first = _post(client, path, None, key)
    second = _post(client, path, None, key)

    assert first.status_code == 200, first.content
    assert "Idempotent-Replayed" not in first
    assert second.status_code == 200
    assert second["Idempotent-Replayed"] == "true"
    assert second["Content-Type"] == first["Content-Type"]
    assert second.content == first.content
    changes = ClearanceStatusChange.objects.filter(request=request, to_status="in_review")
    assert changes.count() == 1
    assert LedgerEntry.objects.filter(tx_id=changes.get().ledger_tx_id).count() == 1


def test_a_replayed_decision_files_one_decision_on_the_ledger(office):
    request = office.requests["HPG"]
    client = client_for(office, "hpg_decide_key")
    _claim(office, "hpg_decide_key", "claim-1")
    path = f"/api/v1/clearances/{request.pk}/decide/"
    ledger_entries = LedgerEntry.objects.count()

    first = _post(client, path, _approval(request), "decide-1")
    second = _post(client, path, _approval(request), "decide-1")

    assert (first.status_code, second.status_code) == (200, 200), first.content
    assert second.json() == first.json()
    assert ClearanceStatusChange.objects.filter(request=request, to_status="approved").count() == 1
    assert LedgerEntry.objects.count() == ledger_entries + 1


def test_a_deterministic_refusal_is_replayed_too(office):
    request = office.requests["HPG"]
    client = client_for(office, "hpg_decide_key")
    path = f"/api/v1/clearances/{request.pk}/decide/"

    first = _post(client, path, _approval(request), "too-early")
    second = _post(client, path, _approval(request), "too-early")

    assert_problem(first, 409, "transition_not_allowed")
    assert_problem(second, 409, "transition_not_allowed")
    assert second["Idempotent-Replayed"] == "true"


def test_the_same_key_with_another_body_is_refused_with_422(office):
    request = office.requests["HPG"]
    client = client_for(office, "hpg_decide_key")
    _claim(office, "hpg_decide_key", "claim-1")
    path = f"/api/v1/clearances/{request.pk}/decide/"
    _post(client, path, _approval(request), "decide-1")

    response = _post(client, path, {"decision": "rejected", "remarks": "No."}, "decide-1")

    body = assert_problem(response, 422, "idempotency_key_reused")
    assert body["retryable"] is False
    assert ClearanceStatusChange.objects.filter(request=request, to_status="rejected").count() == 0


def test_the_same_json_with_keys_in_another_order_and_spacing_is_the_same_request(office):
    request = office.requests["HPG"]
    client = client_for(office, "hpg_decide_key")
    _claim(office, "hpg_decide_key", "claim-1")
    path = f"/api/v1/clearances/{request.pk}/decide/"
    approval = _approval(request)
    reordered = {key: approval[key] for key in reversed(list(approval))}
    reordered["findings"] = dict(reversed(list(approval["findings"].items())))
    assert json.dumps(reordered) != json.dumps(approval)

    first = _post(client, path, approval, "decide-1")
    second = client.post(
        path,
        json.dumps(reordered, indent=2).encode(),
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="decide-1",
    )

    assert first.status_code == 200, first.content
    assert second.status_code == 200, second.content
    assert second["Idempotent-Replayed"] == "true"
    assert ClearanceStatusChange.objects.filter(request=request, to_status="approved").count() == 1


def test_the_same_key_on_another_path_is_refused_with_422(office):
    _claim(office, "hpg_decide_key", "shared")
    other = office.other_requests["HPG"]

    client = client_for(office, "hpg_decide_key")
    response = _post(client, f"/api/v1/clearances/{other.pk}/claim/", None, "shared")

    assert_problem(response, 422, "idempotency_key_reused")
    other.refresh_from_db()
    assert other.status == "pending"


@contextmanager
def _held_elsewhere(name: str) -> Iterator[None]:
    """Hold ``name`` from another thread, on its own database connection, as a request
    running in another process does, until the block ends."""
    taken, done = threading.Event(), threading.Event()
    outcome: list[bool] = []

    def hold() -> None:
        try:
            with held(name) as got:
                outcome.append(got)
                taken.set()
                done.wait(30)
        finally:
            connection.close()
            taken.set()

    thread = threading.Thread(target=hold)
    thread.start()
    try:
        assert taken.wait(30) and outcome == [True]
        yield
    finally:
        done.set()
        thread.join(30)


def test_a_retry_while_the_first_request_is_in_flight_is_409_with_retry_after(office):
    request = office.requests["HPG"]
    key = ApiKey.objects.get(prefix=office.keys["hpg_decide_key"].split("_")[1])

    with _held_elsewhere(hold_name(caller=f"key:{key.pk}", key="in-flight")):
        response = _claim(office, "hpg_decide_key", "in-flight")

    body = assert_problem(response, 409, "conflict")
    assert body["retryable"] is True
    assert "still being processed" in body["detail"]
    assert 1 <= int(response["Retry-After"]) <= 10
    request.refresh_from_db()
    assert request.status == "pending"
    # Once the first request lets go, the retry runs.
    assert _claim(office, "hpg_decide_key", "in-flight").status_code == 200


def test_a_pending_key_left_by_a_request_that_died_is_taken_over_by_the_retry(office):
    # The record of a request whose process died after its claim committed: pending, and
    # nobody holds the key. (tests/api/test_idempotency_live.py kills a real server.)
    _claim(office, "hpg_decide_key", "orphan")
    IdempotencyRecord.objects.filter(key="orphan").update(
        state=IdempotencyRecord.State.PENDING, status_code=None, body=b""
    )

    response = _claim(office, "hpg_decide_key", "orphan")

    # The claim runs again and finds it already made, rather than waiting 24 hours.
    body = assert_problem(response, 409, "conflict")
    assert "still being processed" not in body["detail"]
    assert "Retry-After" not in response
    assert ClearanceStatusChange.objects.filter(to_status="in_review").count() == 1


def test_keys_belong_to_their_caller(office):
    _claim(office, "hpg_decide_key", "mine")

    response = _claim(office, "hpg_officer", "mine")

    # The officer's own key space: the claim runs again and finds the request already taken.
    body = assert_problem(response, 409, "conflict")
    assert "Idempotency-Key" not in body["detail"]
    assert "Idempotent-Replayed" not in response


def test_a_ledger_outage_is_not_stored_so_a_retry_runs_again(office, monkeypatch):
    from ledger import adapter
    from ledger.exceptions import LedgerUnavailable
    from tests.clearance.test_ledger_failures import FailingLedger

    real_ledger = adapter.configured_ledger
    monkeypatch.setattr(adapter, "configured_ledger", lambda: FailingLedger(LedgerUnavailable()))
    failed = _claim(office, "hpg_decide_key", "retry-me")
    monkeypatch.setattr(adapter, "configured_ledger", real_ledger)

    retried = _claim(office, "hpg_decide_key", "retry-me")

    assert_problem(failed, 503, "ledger_unavailable")
    assert retried.status_code == 200, retried.content
    assert "Idempotent-Replayed" not in retried
    office.requests["HPG"].refresh_from_db()
    assert office.requests["HPG"].status == "in_review"


@pytest.mark.parametrize("malformed", ["x" * 256, "two words", "clé-1", "tab\tinside"])
def test_a_malformed_key_is_400_naming_the_header_and_changes_nothing(office, malformed):
    response = _claim(office, "hpg_decide_key", malformed)

    body = assert_problem(response, 400, "invalid")
    assert set(body["errors"]) == {"Idempotency-Key"}
    assert not IdempotencyRecord.objects.exists()
    office.requests["HPG"].refresh_from_db()
    assert office.requests["HPG"].status == "pending"


def test_the_schema_declares_the_keys_accepted_form_and_the_in_flight_retry_after(db):
    schema = SchemaGenerator().get_schema(request=None, public=True)
    claim = schema["paths"]["/api/v1/clearances/{id}/claim/"]["post"]

    [header] = [p for p in claim["parameters"] if p["name"] == "Idempotency-Key"]
    form = header["schema"]
    assert (form["type"], form["minLength"], form["maxLength"]) == ("string", 1, 255)
    assert re.fullmatch(form["pattern"].strip("^$"), str(uuid.uuid4()))
    assert not re.fullmatch(form["pattern"].strip("^$"), "two words")
    in_flight = claim["responses"]["409"]["headers"]["Retry-After"]
    assert schema["components"]["headers"][in_flight["$ref"].rsplit("/", 1)[1]]["required"] is False


def test_keys_expire_after_24_hours(office):
    _claim(office, "hpg_decide_key", "old")
    other = office.other_requests["HPG"]
    client = client_for(office, "hpg_decide_key")
    _post(client, f"/api/v1/clearances/{other.pk}/claim/", None, "recent")
    IdempotencyRecord.objects.filter(key="old").update(
        created_at=timezone.now() - dt.timedelta(hours=24, seconds=1)
    )

    purged = idempotency_keys_purge()

    assert purged == 1
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["recent"]


def test_an_expired_key_not_yet_purged_runs_the_request_again(office):
    _claim(office, "hpg_decide_key", "stale")
    IdempotencyRecord.objects.filter(key="stale").update(
        created_at=timezone.now() - dt.timedelta(hours=25)
    )

    response = _claim(office, "hpg_decide_key", "stale")

    body = assert_problem(response, 409, "conflict")
    assert "Idempotency-Key" not in body["detail"]
    assert "Idempotent-Replayed" not in response


def test_the_purge_runs_hourly_from_celery_beat(settings):
    from api.tasks import purge_idempotency_keys

    entry = settings.CELERY_BEAT_SCHEDULE["purge-idempotency-keys"]
    assert entry["task"] == purge_idempotency_keys.name
    assert entry["schedule"] <= 3600


def test_every_post_documents_the_idempotency_key_header(db):
    schema = SchemaGenerator().get_schema(request=None, public=True)

    posts = [(path, item["post"]) for path, item in schema["paths"].items() if "post" in item]
    assert posts
    for path, operation in posts:
        headers = {p["name"] for p in operation.get("parameters", []) if p["in"] == "header"}
        assert "Idempotency-Key" in headers, path
        assert "422" in operation["responses"], path
