"""Official receipts through the doors people use: the application page, LTO staff's list and
void confirmation, and the REST API (in the schema, the void idempotent)."""

from __future__ import annotations

import io
import uuid

import pytest
from django.urls import reverse
from pypdf import PdfReader
from rest_framework.test import APIClient

from organisations.models import Office
from payments.models import OfficialReceipt, ReceiptHistory
from registry.models import RegistrationApplication
from tests.payments.receipts import assessed_application, pay

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("eager_celery")]


def api_as(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def pdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


@pytest.fixture
def receipts(world):
    """Juan's receipt at Makati, Maria's at Cebu."""
    juan = pay(assessed_application(world))
    application = assessed_application(world, owner=world.other_owner)
    RegistrationApplication.objects.filter(pk=application.pk).update(
        office=Office.objects.get(code="R07-CEB-DO")
    )
    maria = pay(application)
    return juan, maria


def test_the_owner_sees_their_receipt_on_the_application_page(client, world, receipts):
    juan, _ = receipts
    client.force_login(world.owner)
    page = client.get(reverse("application-detail", args=[juan.application_id])).content.decode()
    assert 'data-testid="receipts"' in page and juan.number in page
    assert reverse("receipt-pdf", args=[juan.number]) in page

    detail = client.get(reverse("receipt-detail", args=[juan.number]))
    assert detail.status_code == 200 and "₱3,254.00" in detail.content.decode()
    pdf = client.get(reverse("receipt-pdf", args=[juan.number]))
    assert pdf["Content-Type"] == "application/pdf"
    assert "REPRINT no. 1" in pdf_text(pdf.content)


def test_another_owner_cannot_see_the_receipt_anywhere(client, world, receipts):
    juan, maria = receipts
    client.force_login(world.other_owner)
    assert client.get(reverse("receipt-detail", args=[juan.number])).status_code == 404
    assert client.get(reverse("receipt-pdf", args=[juan.number])).status_code == 404
    assert client.get(reverse("receipts")).status_code == 404  # the list is LTO staff's
    api = api_as(world.other_owner)
    assert api.get(f"/api/v1/receipts/{juan.number}/").status_code == 404
    assert api.get(f"/api/v1/receipts/{juan.number}/pdf/").status_code == 404
    listed = api.get("/api/v1/receipts/").json()["results"]
    assert [r["number"] for r in listed] == [maria.number]
    assert not ReceiptHistory.objects.filter(kind="reprinted").exists()


def test_lto_staff_list_receipts_by_office_and_void_one_after_confirming(client, world, receipts):
    juan, maria = receipts
    client.force_login(world.lto_admin)
    page = client.get(reverse("receipts"), {"office": "R07-CEB-DO"}).content.decode()
    assert maria.number in page and juan.number not in page
    page = client.get(reverse("receipts"), {"issued_from": "2000-01-01"}).content.decode()
    assert maria.number in page and juan.number in page

    confirm = client.get(reverse("receipt-void", args=[juan.number]))
    assert confirm.status_code == 200 and "reason" in confirm.content.decode()
    refused = client.post(reverse("receipt-void", args=[juan.number]), {"reason": " "})
    assert refused.status_code == 422 and "reason is required" in refused.content.decode()
    juan.refresh_from_db()
    assert juan.voided_at is None

    done = client.post(
        reverse("receipt-void", args=[juan.number]), {"reason": "Duplicate payment."}, follow=True
    )
    assert 'data-testid="receipt-void"' in done.content.decode()
    again = client.post(reverse("receipt-void", args=[juan.number]), {"reason": "Again."})
    assert again.status_code == 409
    page = client.get(reverse("receipts"), {"status": "void"}).content.decode()
    assert juan.number in page and maria.number not in page


def test_the_api_lists_shows_prints_and_voids_idempotently(world, receipts):
    juan, _ = receipts
    staff = api_as(world.lto_admin)
    listed = staff.get("/api/v1/receipts/", {"office": "NCR-MKT-DO"}).json()["results"]
    assert [r["number"] for r in listed] == [juan.number]
    detail = staff.get(f"/api/v1/receipts/{juan.number}/").json()
    assert detail["total_centavos"] == 325400 and detail["status"] == "valid"
    assert any(not item["confirmed"] for item in detail["items"])
    assert staff.get("/api/v1/receipts/", {"status": "nope"}).status_code == 400

    pdf = staff.get(f"/api/v1/receipts/{juan.number}/pdf/")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"

    url = f"/api/v1/receipts/{juan.number}/void/"
    for empty in ({}, {"reason": "   "}):
        missing = staff.post(url, empty, format="json")
        assert missing.status_code == 422 and "reason" in missing.json()["errors"]
    assert staff.post(url, {"reason": ["a list"]}, format="json").status_code == 400
    owner = api_as(world.owner)
    forbidden = owner.post(url, {"reason": "mine"}, format="json")
    assert forbidden.status_code == 403 and "LTO staff" in forbidden.json()["detail"]
    assert OfficialReceipt.objects.get(pk=juan.pk).voided_at is None

    key = {"HTTP_IDEMPOTENCY_KEY": str(uuid.uuid4())}
    first = staff.post(url, {"reason": "Spoiled printout."}, format="json", **key)
    assert first.status_code == 200 and first.json()["status"] == "void"
    replay = staff.post(url, {"reason": "Spoiled printout."}, format="json", **key)
    assert replay.status_code == 200 and replay["Idempotent-Replayed"] == "true"
    assert replay.json() == first.json()
    twice = staff.post(url, {"reason": "Spoiled printout."}, format="json")
    assert twice.status_code == 409 and twice.json()["code"] == "receipt_already_void"
    assert ReceiptHistory.objects.filter(receipt=juan, kind="voided").count() == 1
    assert "VOID since" in pdf_text(staff.get(f"/api/v1/receipts/{juan.number}/pdf/").content)


def test_the_receipt_operations_are_in_the_schema(client, db):
    schema = client.get("/api/schema/", {"format": "json"}).json()
    paths = schema["paths"]
    assert set(paths["/api/v1/receipts/"]) == {"get"}
    assert set(paths["/api/v1/receipts/{number}/"]) == {"get"}
    assert (
        "application/pdf"
        in paths["/api/v1/receipts/{number}/pdf/"]["get"]["responses"]["200"]["content"]
    )
    void = paths["/api/v1/receipts/{number}/void/"]["post"]
    assert "Idempotency-Key" in {p["name"] for p in void["parameters"]}
    assert {"403", "409", "422"} <= set(void["responses"])


def test_a_nul_in_a_receipt_number_or_a_void_reason_is_refused_plainly(client, world, receipts):
    """PostgreSQL cannot take a NUL in a query or a column: a 404 or a 422, never a 500."""
    juan, _ = receipts
    client.force_login(world.lto_admin)
    for name in ("receipt-detail", "receipt-pdf", "receipt-void"):
        assert client.get(reverse(name, args=["NCR\x00"])).status_code == 404
    refused = client.post(reverse("receipt-void", args=[juan.number]), {"reason": "No\x00pe"})
    assert refused.status_code == 422
    juan.refresh_from_db()
    assert not juan.is_void
