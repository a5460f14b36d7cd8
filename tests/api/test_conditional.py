"""ETag and If-None-Match on the status lookup and the detail reads."""

from __future__ import annotations

import pytest
from drf_spectacular.generators import SchemaGenerator

from clearance import services as clearance_services
from tests.api.conftest import Office, client_for


def _paths(office: Office) -> dict[str, tuple[str, str, dict]]:
    application = office.application
    return {
        "clearance": ("hpg_read_key", f"/api/v1/clearances/{office.requests['HPG'].pk}/", {}),
        "application": ("owner", f"/api/v1/applications/{application.pk}/", {}),
        "status": ("hpg_read_key", "/api/v1/status/", {"reference": application.reference}),
    }


@pytest.mark.parametrize("read", ["clearance", "application", "status"])
def test_a_read_answers_304_without_a_body_while_unchanged(office, read):
    caller, path, params = _paths(office)[read]
    client = client_for(office, caller)
    first = client.get(path, params)
    etag = first["ETag"]

    again = client.get(path, params, HTTP_IF_NONE_MATCH=etag)

    assert first.status_code == 200
    assert etag.startswith('"') and not etag.startswith("W/")
    assert first["Cache-Control"] == "private, no-cache"
    assert again.status_code == 304
    assert again.content == b""
    assert (again["ETag"], again["Cache-Control"]) == (etag, "private, no-cache")


@pytest.mark.parametrize("read", ["clearance", "application", "status"])
def test_a_changed_resource_gets_a_new_etag_and_a_full_answer(office, read):
    caller, path, params = _paths(office)[read]
    client = client_for(office, caller)
    etag = client.get(path, params)["ETag"]
    clearance_services.clearance_claim(
        request_id=office.requests["HPG"].pk, officer=office.world.hpg_officer
    )

    response = client.get(path, params, HTTP_IF_NONE_MATCH=etag)

    assert response.status_code == 200
    assert response["ETag"] != etag
    assert response.json()


def test_a_stale_or_foreign_etag_gets_the_full_answer(office):
    _, path, _ = _paths(office)["clearance"]

    response = client_for(office, "hpg_read_key").get(path, HTTP_IF_NONE_MATCH='"stale", W/"x"')

    assert response.status_code == 200


def test_the_conditional_reads_document_if_none_match_and_304(db):
    schema = SchemaGenerator().get_schema(request=None, public=True)

    for path in (
        "/api/v1/clearances/{id}/",
        "/api/v1/applications/{id}/",
        "/api/v1/status/",
        "/api/v1/vehicles/{id}/",
        "/api/v1/ledger/receipts/{tx_id}/",
        "/api/v1/ledger/receipts/{tx_id}/proof/",
        "/api/v1/ledger/vehicles/{vin}/history/",
        "/api/v1/webhooks/{id}/",
    ):
        operation = schema["paths"][path]["get"]
        headers = {p["name"] for p in operation["parameters"] if p["in"] == "header"}
        assert "If-None-Match" in headers, path
        assert "304" in operation["responses"], path


def _new_reads(office: Office) -> dict[str, tuple[str, str]]:
    from notifications.models import WebhookSubscription

    subscription = WebhookSubscription.objects.create(
        organisation=office.world.hpg, url="https://hpg.example/in", events=["clearance.decided"]
    )
    tx_id = office.requests["HPG"].status_changes.get().ledger_tx_id
    vin = office.application.vehicle.vin
    return {
        "vehicle": ("owner", f"/api/v1/vehicles/{office.application.vehicle_id}/"),
        "receipt": ("hpg_read_key", f"/api/v1/ledger/receipts/{tx_id}/"),
        "proof": ("hpg_read_key", f"/api/v1/ledger/receipts/{tx_id}/proof/"),
        "history": ("hpg_read_key", f"/api/v1/ledger/vehicles/{vin}/history/"),
        "webhook": ("hpg_admin", f"/api/v1/webhooks/{subscription.pk}/"),
    }


@pytest.mark.parametrize("read", ["vehicle", "receipt", "proof", "history", "webhook"])
def test_the_new_detail_reads_answer_304_while_unchanged(office, read):
    caller, path = _new_reads(office)[read]
    client = client_for(office, caller)
    first = client.get(path)

    again = client.get(path, HTTP_IF_NONE_MATCH=first["ETag"])

    assert first.status_code == 200, first.content
    assert (again.status_code, again.content) == (304, b"")
    assert again["ETag"] == first["ETag"]


def test_a_paused_subscription_gets_a_new_etag(office):
    caller, path = _new_reads(office)["webhook"]
    client = client_for(office, caller)
    etag = client.get(path)["ETag"]
    client.post(path + "pause/")

    response = client.get(path, HTTP_IF_NONE_MATCH=etag)

    assert response.status_code == 200
    assert response.json()["is_active"] is False
