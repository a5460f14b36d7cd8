"""The schema declares the headers responses carry: ETag, Idempotent-Replayed, Retry-After.

Declared once (``api.schema.declare_response_headers``), so each test walks every operation
the schema has today, and one checks that an operation nobody has written yet gets them too.
"""

from __future__ import annotations

import pytest

from api.schema import declare_response_headers
from tests.api.conftest import client_for
from tests.api.test_problems import assert_problem


@pytest.fixture
def schema(db, client) -> dict:
    # The schema as integrators get it: served, with the project's postprocessing hooks.
    response = client.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return response.json()


def _operations(schema: dict):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            yield path, method, operation


def _header(schema: dict, response: dict, name: str) -> dict | None:
    header = response.get("headers", {}).get(name)
    if header is None:
        return None
    ref = header.get("$ref")
    if ref:
        return schema["components"]["headers"][ref.rsplit("/", 1)[-1]]
    return header


def test_conditional_reads_declare_etag_and_cache_control_on_200_and_304(schema):
    conditional = [
        (path, operation)
        for path, method, operation in _operations(schema)
        if "304" in operation["responses"]
    ]
    assert {path for path, _ in conditional} >= {
        "/api/v1/status/",
        "/api/v1/clearances/{id}/",
        "/api/v1/applications/{id}/",
    }
    for path, operation in conditional:
        for status in ("200", "304"):
            response = operation["responses"][status]
            etag = _header(schema, response, "ETag")
            assert etag is not None and etag["required"] is True, (path, status)
            assert _header(schema, response, "Cache-Control")["required"] is True, (path, status)


def test_lists_without_etag_do_not_claim_one(schema):
    operation = schema["paths"]["/api/v1/clearances/"]["get"]

    assert "ETag" not in operation["responses"]["200"].get("headers", {})


def test_every_post_declares_idempotent_replayed_on_what_a_replay_can_return(schema):
    posts = [(path, op) for path, method, op in _operations(schema) if method == "post"]
    assert posts
    for path, operation in posts:
        for status, response in operation["responses"].items():
            replayed = _header(schema, response, "Idempotent-Replayed")
            if status[0] == "2" or status in ("400", "404", "409", "422"):
                assert replayed is not None, (path, status)
                assert replayed["required"] is False
                assert replayed["schema"]["enum"] == ["true"]
            if status in ("401", "429") or status[0] == "5":
                assert replayed is None, (path, status)


def test_every_429_and_503_declares_retry_after_in_seconds(schema):
    seen = set()
    for path, _method, operation in _operations(schema):
        for status in ("429", "503"):
            if status in operation["responses"]:
                retry_after = _header(schema, operation["responses"][status], "Retry-After")
                assert retry_after is not None, (path, status)
                assert retry_after["required"] is True
                assert retry_after["schema"]["type"] == "integer"
                seen.add(status)
    assert seen == {"429", "503"}


def test_every_401_declares_the_bearer_challenge(schema):
    for path, _method, operation in _operations(schema):
        challenge = _header(schema, operation["responses"]["401"], "WWW-Authenticate")
        assert challenge is not None and challenge["required"] is True, path


def test_an_operation_added_later_gets_its_headers_without_declaring_them():
    result = {
        "paths": {
            "/api/v1/new/": {
                "get": {"responses": {"200": {}, "304": {}, "429": {}}},
                "post": {"responses": {"201": {}, "401": {}, "503": {}}},
            }
        }
    }

    declare_response_headers(result, generator=None, request=None, public=True)

    get, post = result["paths"]["/api/v1/new/"]["get"], result["paths"]["/api/v1/new/"]["post"]
    assert set(get["responses"]["200"]["headers"]) == {"ETag", "Cache-Control"}
    assert set(get["responses"]["304"]["headers"]) == {"ETag", "Cache-Control"}
    assert set(get["responses"]["429"]["headers"]) == {"Retry-After"}
    assert set(post["responses"]["201"]["headers"]) == {"Idempotent-Replayed"}
    assert set(post["responses"]["401"]["headers"]) == {"WWW-Authenticate"}
    assert set(post["responses"]["503"]["headers"]) == {"Retry-After"}
    assert set(result["components"]["headers"]) == {
        "ETag",
        "CacheControl",
        "IdempotentReplayed",
        "RetryAfter",
        "WWWAuthenticate",
    }


def test_a_ledger_outage_answers_503_with_retry_after(office, monkeypatch):
    # The ledger is replaced by one that is down: an outage cannot be caused here otherwise.
    from ledger import adapter
    from ledger.exceptions import LedgerUnavailable
    from tests.clearance.test_ledger_failures import FailingLedger

    request = office.requests["HPG"]
    monkeypatch.setattr(adapter, "configured_ledger", lambda: FailingLedger(LedgerUnavailable()))

    response = client_for(office, "hpg_decide_key").post(
        f"/api/v1/clearances/{request.pk}/claim/", HTTP_IDEMPOTENCY_KEY="outage-1"
    )

    assert_problem(response, 503, "ledger_unavailable")
    assert int(response["Retry-After"]) > 0


def test_the_headers_declared_for_a_conditional_read_are_sent(office):
    client = client_for(office, "hpg_read_key")
    url = f"/api/v1/status/?reference={office.application.reference}"

    first = client.get(url)
    again = client.get(url, HTTP_IF_NONE_MATCH=first["ETag"])

    assert first.status_code == 200 and again.status_code == 304
    for response in (first, again):
        assert response["ETag"] == first["ETag"]
        assert response["Cache-Control"] == "private, no-cache"


def test_every_paged_list_and_idempotent_post_documents_the_problems_they_share(schema):
    for path, method, operation in _operations(schema):
        names = {(p["in"], p["name"]) for p in operation.get("parameters", [])}
        expected = set()
        if ("query", "cursor") in names:
            expected.add("400")
        if ("header", "Idempotency-Key") in names:
            expected |= {"400", "409", "422"}
        for status in expected:
            content = operation["responses"][status]["content"]
            assert list(content) == ["application/problem+json"], (path, method, status)
            assert content["application/problem+json"]["examples"], (path, method, status)


def test_a_cursor_we_did_not_give_out_is_a_400_naming_cursor(office):
    response = client_for(office, "hpg_read_key").get("/api/v1/clearances/?cursor=not%20a%20cursor")

    body = assert_problem(response, 400, "invalid")
    assert list(body["errors"]) == ["cursor"]
