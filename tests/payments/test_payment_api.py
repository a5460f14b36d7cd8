"""The payments API: the applicant starts a checkout for the server's current assessment,
reads its payments; LTO staff refund; the approval endpoint refuses an unpaid application.
The sandbox gateway runs in-process (nothing mocked)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from chaincode.rules import ApplicationStatus
from payments.models import Assessment, FeeRate, Payment, Refund
from payments.payment_tasks import deliver_sandbox_callback
from registry.models import RegistrationApplication
from tests.api.test_problems import assert_problem
from tests.conftest import claim_and_approve, filed_application, sent_for_clearance
from tests.paying import pay_in_full

pytestmark = pytest.mark.django_db

# A factory car, no GVW (lowest band), by hand: MVUC 1,600 + registration 1,000 + computer 154
# + sticker 50 + plate 450.
TOTAL = 325400


def signed_in(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def payments_url(application: RegistrationApplication) -> str:
    return f"/api/v1/applications/{application.pk}/payments/"


def test_the_applicant_starts_a_checkout_for_the_assessed_total_and_a_replay_opens_no_other(
    world,
):
    application = filed_application(world)
    client = signed_in(world.owner)

    first = client.post(
        payments_url(application),
        {"amount_centavos": TOTAL},
        format="json",
        HTTP_IDEMPOTENCY_KEY="pay-1",
    )

    assert first.status_code == 201, first.content
    body = first.json()
    payment = Payment.objects.get()
    assert body["reference"] == payment.reference and body["status"] == "pending"
    assert body["amount_centavos"] == TOTAL and payment.amount_centavos == TOTAL
    assert (
        body["checkout_url"]
        == f"http://testserver/payments/sandbox/{payment.provider_checkout_id}/"
    )
    replay = client.post(
        payments_url(application),
        {"amount_centavos": TOTAL},
        format="json",
        HTTP_IDEMPOTENCY_KEY="pay-1",
    )
    assert replay["Idempotent-Replayed"] == "true" and replay.json() == body
    # Without a key, pressing again hands back the checkout already open.
    again = client.post(payments_url(application), {}, format="json")
    assert again.status_code == 200 and again.json()["reference"] == payment.reference
    assert Payment.objects.count() == 1


def test_an_amount_other_than_the_assessed_total_is_422_and_opens_nothing(world):
    application = filed_application(world)
    client = signed_in(world.owner)

    response = client.post(payments_url(application), {"amount_centavos": 100}, format="json")

    body = assert_problem(response, 422, "payment_refused")
    assert "₱3,254.00" in body["detail"]
    assert not Payment.objects.exists()
    not_a_number = client.post(payments_url(application), {"amount_centavos": "x"}, format="json")
    assert_problem(not_a_number, 400, "invalid")
    assert not Payment.objects.exists()


def test_someone_elses_application_is_404_and_a_clearing_officer_or_the_lto_cannot_pay(world):
    application, _ = sent_for_clearance(world)

    other = signed_in(world.other_owner).post(payments_url(application), {}, format="json")
    assert_problem(other, 404, "not_found")
    assert_problem(signed_in(world.other_owner).get(payments_url(application)), 404, "not_found")
    officer = signed_in(world.hpg_officer)
    assert_problem(
        officer.post(payments_url(application), {}, format="json"), 403, "permission_denied"
    )
    assert_problem(officer.get(payments_url(application)), 403, "permission_denied")
    lto = signed_in(world.lto_admin).post(payments_url(application), {}, format="json")
    assert_problem(lto, 403, "permission_denied")
    assert not Payment.objects.exists()


def test_a_draft_is_not_payable_yet(world):
    from tests.conftest import draft_application

    application = draft_application(world)
    response = signed_in(world.owner).post(payments_url(application), {}, format="json")
    body = assert_problem(response, 409, "not_payable")
    assert "Submit the application first" in body["detail"]
    assert not Payment.objects.exists()


def test_the_payments_are_listed_and_read_by_reference_by_their_payer_and_the_lto(world):
    application = filed_application(world)
    payment = pay_in_full(application)

    listed = signed_in(world.owner).get(payments_url(application)).json()
    assert [p["reference"] for p in listed] == [payment.reference]
    assert listed[0]["status"] == "paid" and listed[0]["paid_at"]
    assert listed[0]["checkout_url"] is None  # closed once paid
    detail_url = f"/api/v1/payments/{payment.reference}/"
    assert signed_in(world.lto_admin).get(detail_url).json()["amount_centavos"] == TOTAL
    assert_problem(signed_in(world.other_owner).get(detail_url), 404, "not_found")
    assert_problem(signed_in(world.owner).get("/api/v1/payments/PAY-NOSUCH/"), 404, "not_found")
    # Paid: a second payment is refused.
    again = signed_in(world.owner).post(payments_url(application), {}, format="json")
    assert_problem(again, 409, "already_paid")


def test_lto_staff_refund_through_the_api_once_and_never_more_than_was_paid(world):
    application = filed_application(world)
    payment = pay_in_full(application)
    url = f"/api/v1/payments/{payment.reference}/refunds/"
    staff = signed_in(world.lto_admin)

    first = staff.post(
        url,
        {"amount_centavos": 45000, "reason": "Plate fee charged twice."},
        format="json",
        HTTP_IDEMPOTENCY_KEY="refund-1",
    )
    assert first.status_code == 201, first.content
    body = first.json()
    assert body["status"] == "partially_refunded" and body["refunded_centavos"] == 45000
    [refund] = body["refunds"]
    assert refund["provider_refund_id"].startswith("sbx_ref_") and refund["reference"]
    replay = staff.post(
        url,
        {"amount_centavos": 45000, "reason": "Plate fee charged twice."},
        format="json",
        HTTP_IDEMPOTENCY_KEY="refund-1",
    )
    assert replay["Idempotent-Replayed"] == "true" and Refund.objects.count() == 1

    too_much = staff.post(url, {"amount_centavos": TOTAL, "reason": "All."}, format="json")
    assert "₱2,804.00" in assert_problem(too_much, 422, "payment_refused")["detail"]
    payer = signed_in(world.owner).post(url, {"amount_centavos": 100, "reason": "x"}, format="json")
    assert_problem(payer, 403, "permission_denied")
    no_reason = staff.post(url, {"amount_centavos": 100, "reason": ""}, format="json")
    assert_problem(no_reason, 400, "invalid")
    assert Refund.objects.count() == 1
    payment.refresh_from_db()
    assert payment.status == "partially_refunded"


def test_approval_through_the_api_is_refused_while_unpaid_and_allowed_once_paid(world):
    application, requests = sent_for_clearance(world)
    for request in requests.values():
        claim_and_approve(world, request)
    url = f"/api/v1/applications/{application.pk}/approve/"
    staff = signed_in(world.lto_admin)

    refused = staff.post(url, {}, format="json")

    body = assert_problem(refused, 409, "approval_refused")
    assert "₱3,254.00 is due" in body["detail"]
    application.refresh_from_db()
    assert application.status == ApplicationStatus.CLEARED and not application.vehicle.plate_number

    # A checkout opened but not paid is still unpaid.
    payment, _ = _open_checkout(application)
    assert_problem(staff.post(url, {}, format="json"), 409, "approval_refused")

    assert deliver_sandbox_callback(payment.provider_checkout_id) == "applied"
    approved = staff.post(url, {}, format="json")
    assert approved.status_code == 200, approved.content
    assert approved.json()["status"] == "approved"


def _open_checkout(application):
    from payments import payment_services

    return payment_services.application_payment_start(
        payer=application.applicant, application_id=application.pk
    )


def test_a_checkout_still_open_for_a_lapsed_assessment_is_not_closed_under_the_payer(world):
    """The payer may finish the open checkout in another tab: closing it here, while the
    provider still takes payment, would charge them for a payment recorded late. The new
    amount waits until the old checkout closes by itself; then paying works."""
    application = filed_application(world)
    client = signed_in(world.owner)
    assert client.post(payments_url(application), {}, format="json").status_code == 201
    Assessment.objects.update(valid_until=timezone.now() - timedelta(seconds=1))
    FeeRate.objects.filter(code=FeeRate.Code.PLATE_FEE).update(amount_centavos=50000)

    refused = client.post(payments_url(application), {}, format="json")

    assert_problem(refused, 409, refused.json()["code"])
    assert "still open until" in refused.json()["detail"]
    assert list(Payment.objects.values_list("status", flat=True)) == ["pending"]
    Payment.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    again = client.post(payments_url(application), {}, format="json")
    assert again.status_code == 201
    assert sorted(Payment.objects.values_list("status", flat=True)) == ["expired", "pending"]
