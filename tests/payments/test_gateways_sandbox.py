"""The sandbox gateway end to end through the test client: start, hosted checkout, signed
callback; and the callbacks that must change nothing (forged, replayed, wrong amount, wrong
currency, after expiry). Nothing is mocked: the sandbox is in-process by design."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from payments import assessment, payment_services
from payments.gateways.base import signature_header
from payments.gateways.sandbox import SIGNATURE_HEADER, paid_event_body, sandbox_secret
from payments.models import Payment, PaymentEvent, Refund
from payments.payment_views import pay_button
from tests.conftest import draft_application, filed_application

pytestmark = pytest.mark.usefixtures("eager_celery")

ASSESSMENT_ID = 7001
# A filed new registration of a factory vehicle (no GVW: the car's lowest band), by hand:
# MVUC 1,600 + registration 1,000 + computer 154 + sticker 50 + plate 450.
AMOUNT = 325400


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def press_pay(client: Client, application):
    """Press the pay button as the application's page renders it."""
    current = assessment.assess(application)
    html = pay_button(
        client.get("/").wsgi_request, application.pk, current.pk, current.total_centavos
    )
    token = html.split('name="payable" value="')[1].split('"')[0]
    return client.post(reverse("payment-start"), {"payable": token})


def start(world, client: Client):
    """A filed application's applicant presses Pay; return the application and the redirect."""
    application = filed_application(world)
    return application, press_pay(client, application)


def post_callback(body: bytes, headers: dict[str, str]):
    extra = {f"HTTP_{name.upper().replace('-', '_')}": value for name, value in headers.items()}
    return Client().post(
        reverse("payment-callback", args=["sandbox"]),
        data=body,
        content_type="application/json",
        **extra,
    )


def snapshot():
    """Everything a callback could change, to compare before and after."""
    return (
        list(Payment.objects.order_by("pk").values_list("pk", "status", "paid_at")),
        PaymentEvent.objects.count(),
    )


def test_sandbox_checkout_pays_end_to_end(world):
    client = logged_in(world.owner)
    _, response = start(world, client)
    payment = Payment.objects.get()
    assert response.status_code == 302
    assert response.url == f"/payments/sandbox/{payment.provider_checkout_id}/"
    assert payment.status == "pending" and payment.amount_centavos == AMOUNT

    page = client.get(response.url)
    assert page.status_code == 200 and b"Pay" in page.content

    done = client.post(response.url, {"action": "pay"}, follow=True)
    payment.refresh_from_db()
    assert payment.status == "paid" and payment.paid_at is not None
    assert payment.provider_payment_id.startswith("sbx_pay_")
    assert b"Paid" in done.content
    event = PaymentEvent.objects.get()
    assert (event.type, event.outcome) == ("checkout_session.payment.paid", "applied")


def test_cancel_leaves_the_payment_pending_and_a_second_click_reuses_it(world):
    client = logged_in(world.owner)
    application, response = start(world, client)
    client.post(response.url, {"action": "cancel"})
    assert Payment.objects.get().status == "pending"
    again = press_pay(client, application)
    assert again.url == response.url and Payment.objects.count() == 1


def test_only_the_applicant_may_pay_and_never_twice(world):
    application = draft_application(world)
    with pytest.raises(payment_services.PermissionDenied):
        payment_services.payment_start(
            payer=world.other_owner,
            application_id=application.pk,
            assessment_id=1,
            amount_centavos=AMOUNT,
        )
    for bad in (0, -5):
        with pytest.raises(payment_services.PaymentRefused):
            payment_services.payment_start(
                payer=world.owner,
                application_id=application.pk,
                assessment_id=1,
                amount_centavos=bad,
            )
    assert Payment.objects.count() == 0
    client = logged_in(world.owner)
    application, response = start(world, client)
    client.post(response.url, {"action": "pay"})
    with pytest.raises(payment_services.AlreadyPaid):
        payment_services.payment_start(
            payer=world.owner,
            application_id=application.pk,
            assessment_id=Payment.objects.get().assessment_id,
            amount_centavos=AMOUNT,
        )
    assert press_pay(client, application).status_code == 409


def test_an_edited_pay_button_is_refused(world):
    client = logged_in(world.owner)
    response = client.post(reverse("payment-start"), {"payable": "[1, 2, 100]"})
    assert response.status_code == 422
    assert Payment.objects.count() == 0


def pending_payment(world) -> Payment:
    _, response = start(world, logged_in(world.owner))
    assert response.status_code == 302
    return Payment.objects.get()


def body_for(payment: Payment, **overrides) -> bytes:
    fields = {
        "checkout_id": payment.provider_checkout_id,
        "reference": payment.reference,
        "amount_centavos": payment.amount_centavos,
    } | overrides
    return paid_event_body(**fields)


def test_forged_signature_is_refused_with_nothing_recorded(world):
    payment = pending_payment(world)
    body = body_for(payment)
    before = snapshot()
    forged = {SIGNATURE_HEADER: signature_header("not-the-secret", body, live=False)}
    assert post_callback(body, forged).status_code == 400
    assert post_callback(body, {}).status_code == 400
    # A body changed after signing: the signature was over the original.
    good = {SIGNATURE_HEADER: signature_header(sandbox_secret(), body, live=False)}
    tampered = body.replace(str(AMOUNT).encode(), b"100")
    assert post_callback(tampered, good).status_code == 400
    # An old signature (a captured callback sent again later) is refused as a replay.
    stale = {
        SIGNATURE_HEADER: signature_header(
            sandbox_secret(), body, live=False, timestamp=int(time.time()) - 3600
        )
    }
    assert post_callback(body, stale).status_code == 400
    assert snapshot() == before


def test_replayed_callback_is_harmless(world):
    payment = pending_payment(world)
    body = body_for(payment)
    headers = {SIGNATURE_HEADER: signature_header(sandbox_secret(), body, live=False)}
    assert post_callback(body, headers).json() == {"outcome": "applied"}
    payment.refresh_from_db()
    paid_at = payment.paid_at
    before = snapshot()
    again = post_callback(body, headers)
    assert again.status_code == 200 and again.json() == {"outcome": "duplicate"}
    assert snapshot() == before
    payment.refresh_from_db()
    assert payment.paid_at == paid_at


@pytest.mark.parametrize(
    ("override", "outcome"),
    [
        ({"amount_centavos": AMOUNT - 1}, "amount_mismatch"),
        ({"currency": "USD"}, "currency_mismatch"),
    ],
)
def test_wrong_amount_or_currency_is_refused_and_recorded(world, override, outcome):
    payment = pending_payment(world)
    body = body_for(payment, **override)
    headers = {SIGNATURE_HEADER: signature_header(sandbox_secret(), body, live=False)}
    response = post_callback(body, headers)
    assert response.json() == {"outcome": outcome}
    payment.refresh_from_db()
    assert payment.status == "pending" and payment.paid_at is None
    assert PaymentEvent.objects.get().outcome == outcome


def test_a_float_amount_is_never_taken_for_the_integer(world):
    payment = pending_payment(world)
    event = json.loads(body_for(payment))
    event["data"]["attributes"]["data"]["attributes"]["payments"][0]["attributes"]["amount"] = (
        float(AMOUNT)
    )
    body = json.dumps(event).encode()
    headers = {SIGNATURE_HEADER: signature_header(sandbox_secret(), body, live=False)}
    assert post_callback(body, headers).json() == {"outcome": "amount_mismatch"}
    payment.refresh_from_db()
    assert payment.status == "pending"


def test_abandoned_checkout_expires_and_a_late_callback_is_recorded_not_paid(world):
    payment = pending_payment(world)
    Payment.objects.filter(pk=payment.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    from payments.payment_tasks import expire_abandoned_payments

    assert expire_abandoned_payments.delay().get() == 1
    payment.refresh_from_db()
    assert payment.status == "expired" and payment.expired_at is not None

    client = logged_in(world.owner)
    page = client.get(f"/payments/sandbox/{payment.provider_checkout_id}/")
    assert b"This checkout is closed" in page.content
    assert client.post(page.wsgi_request.path, {"action": "pay"}).status_code == 422

    body = body_for(payment)
    headers = {SIGNATURE_HEADER: signature_header(sandbox_secret(), body, live=False)}
    assert post_callback(body, headers).json() == {"outcome": "late"}
    payment.refresh_from_db()
    assert payment.status == "expired" and payment.paid_at is None
    assert PaymentEvent.objects.get().outcome == "late"


def test_lto_staff_record_a_refund_and_the_payment_stays(world):
    client = logged_in(world.owner)
    _, response = start(world, client)
    client.post(response.url, {"action": "pay"})
    payment = Payment.objects.get()
    with pytest.raises(payment_services.PermissionDenied):
        payment_services.refund_record(
            staff=world.owner, payment_id=payment.pk, amount_centavos=100, reason="x", reference="R"
        )
    staff = logged_in(world.lto_admin)
    url = reverse("payment-refund", args=[payment.pk])
    too_much = staff.post(url, {"amount": "3254.01", "reason": "dup", "reference": "R1"})
    assert too_much.status_code == 422 and Refund.objects.count() == 0
    assert "At most ₱3,254.00" in too_much.content.decode()
    staff.post(url, {"amount": "0.50", "reason": "overcharged", "reference": "LTO-R-1"})
    payment.refresh_from_db()
    assert payment.status == "partially_refunded"
    staff.post(url, {"amount": "3253.50", "reason": "cancelled", "reference": "LTO-R-2"})
    payment.refresh_from_db()
    assert payment.status == "refunded"
    assert [r.reference for r in Refund.objects.order_by("pk")] == ["LTO-R-1", "LTO-R-2"]
    assert all(r.provider_refund_id.startswith("sbx_ref_") for r in Refund.objects.all())
    from django.db.models import ProtectedError

    with pytest.raises(ProtectedError):
        payment.delete()


def test_a_click_while_the_first_checkout_is_being_opened_is_told_to_wait(world):
    """The first click's row exists but its provider call has not answered yet (no redirect
    URL): a second click must neither expire it nor open a second checkout."""
    application = draft_application(world)
    in_flight = Payment.objects.create(
        application_id=application.pk,
        assessment_id=ASSESSMENT_ID,
        amount_centavos=AMOUNT,
        provider="sandbox",
        payer=world.owner,
        expires_at=timezone.now() + timedelta(minutes=60),
    )
    with pytest.raises(payment_services.Conflict):
        payment_services.payment_start(
            payer=world.owner,
            application_id=application.pk,
            assessment_id=ASSESSMENT_ID,
            amount_centavos=AMOUNT,
        )
    in_flight.refresh_from_db()
    assert in_flight.status == "pending" and Payment.objects.count() == 1
