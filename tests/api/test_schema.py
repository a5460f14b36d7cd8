"""The OpenAPI schema is valid and complete, and the docs page works without a CDN."""

from __future__ import annotations

from django.core.management import call_command
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema

OPERATIONS = {
    ("/api/v1/clearances/", "get"),
    ("/api/v1/clearances/{id}/", "get"),
    ("/api/v1/clearances/{id}/claim/", "post"),
    ("/api/v1/clearances/{id}/decide/", "post"),
    ("/api/v1/status/", "get"),
    ("/api/v1/applications/", "get"),
    ("/api/v1/applications/{id}/", "get"),
    ("/api/v1/applications/", "post"),
    ("/api/v1/applications/{id}/submit/", "post"),
    ("/api/v1/applications/{id}/assessment/", "get"),
    ("/api/v1/applications/{id}/resubmit/", "post"),
    ("/api/v1/applications/{id}/approve/", "post"),
    ("/api/v1/applications/{id}/payments/", "get"),
    ("/api/v1/applications/{id}/payments/", "post"),
    ("/api/v1/payments/{reference}/", "get"),
    ("/api/v1/payments/{reference}/refunds/", "post"),
    ("/api/v1/vehicles/", "get"),
    ("/api/v1/vehicles/", "post"),
    ("/api/v1/vehicles/{id}/", "get"),
    ("/api/v1/vehicles/{id}/deregister/", "post"),
    ("/api/v1/certificates/{number}/credential/", "get"),
    ("/api/v1/receipts/", "get"),
    ("/api/v1/receipts/{number}/", "get"),
    ("/api/v1/receipts/{number}/pdf/", "get"),
    ("/api/v1/receipts/{number}/void/", "post"),
    ("/api/v1/holds/", "get"),
    ("/api/v1/mortgages/", "get"),
    ("/api/v1/mortgages/", "post"),
    ("/api/v1/mortgages/{reference}/", "get"),
    ("/api/v1/mortgages/{reference}/consent/", "post"),
    ("/api/v1/mortgages/{reference}/release/", "post"),
    ("/api/v1/holds/", "post"),
    ("/api/v1/holds/{reference}/lift/", "post"),
    ("/api/v1/origins/", "get"),
    ("/api/v1/origins/", "post"),
    ("/api/v1/origins/{id}/", "get"),
    ("/api/v1/origins/{id}/sales/", "post"),
    ("/api/v1/sales/", "get"),
    ("/api/v1/sales/", "post"),
    ("/api/v1/sales/answer/", "post"),
    ("/api/v1/sales/{id}/", "get"),
    ("/api/v1/sales/{id}/withdraw/", "post"),
    ("/api/v1/sales/{id}/notice/", "post"),
    ("/api/v1/sales/{id}/cancel/", "post"),
    ("/api/v1/ledger/receipts/{tx_id}/", "get"),
    ("/api/v1/ledger/receipts/{tx_id}/proof/", "get"),
    ("/api/v1/ledger/vehicles/{vin}/history/", "get"),
    ("/api/v1/notifications/", "get"),
    ("/api/v1/notifications/{id}/read/", "post"),
    ("/api/v1/notifications/read-all/", "post"),
    ("/api/v1/webhooks/", "get"),
    ("/api/v1/webhooks/", "post"),
    ("/api/v1/webhooks/{id}/", "get"),
    ("/api/v1/webhooks/{id}/", "delete"),
    ("/api/v1/webhooks/{id}/pause/", "post"),
    ("/api/v1/webhooks/{id}/resume/", "post"),
    ("/api/v1/webhooks/{id}/deliveries/", "get"),
}


def test_the_schema_endpoint_serves_valid_openapi_3(db, client):
    response = client.get("/api/schema/", {"format": "json"})

    assert response.status_code == 200
    schema = response.json()
    validate_schema(schema)
    assert schema["openapi"].startswith("3.")
    operations = {(path, method) for path, item in schema["paths"].items() for method in item}
    assert operations == OPERATIONS


def test_the_schema_generates_without_warnings(db, tmp_path):
    call_command("spectacular", "--fail-on-warn", "--validate", "--file", str(tmp_path / "s.yml"))


def test_every_operation_documents_its_errors_as_problem_json(db):
    schema = SchemaGenerator().get_schema(request=None, public=True)

    for path, item in schema["paths"].items():
        for method, operation in item.items():
            errors = {code: r for code, r in operation["responses"].items() if code >= "400"}
            assert "401" in errors, (path, method)
            for response in errors.values():
                assert list(response["content"]) == ["application/problem+json"], (path, method)
                assert response["content"]["application/problem+json"]["examples"]


def test_the_docs_page_loads_swagger_ui_from_our_own_static_files(db, client):
    response = client.get("/api/docs/")

    assert response.status_code == 200
    page = response.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in page
    assert "cdn" not in page.lower()
