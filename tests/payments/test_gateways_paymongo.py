"""The PayMongo adapter against a loopback stand-in for PayMongo's API (the internet is not
reachable here; tests/payments/paymongo_standin.py says which documented behaviours it
checks: Basic auth with the secret key, integer centavos with a 2000 minimum, PHP only, line
items required, the checkout session's shape, refunds, and webhooks signed in
``Paymongo-Signature`` with ``te`` in test mode and ``li`` in live mode). Nothing else is
mocked: the stand-in is a real HTTP server and webhooks reach the app over HTTP."""

from __future__ import annotations

import base64

import pytest
from django.urls import reverse

from payments import payment_services
from payments.gateways.base import GatewayMisconfigured, GatewayRefused, Payable
from payments.gateways.paymongo import PayMongoGateway
from payments.models import Payment, PaymentEvent, Refund
from tests.conftest import draft_application
from tests.payments import paymongo_standin

SECRET_KEY = "sk_test_standin_0123456789"
WEBHOOK_SECRET = "whsk_standin_abcdef"
AMOUNT = 150050


@pytest.fixture
def paymongo(settings):
    with paymongo_standin.running(SECRET_KEY, WEBHOOK_SECRET) as standin:
        settings.PAYMENT_GATEWAY = "paymongo"
        settings.PAYMONGO_SECRET_KEY = SECRET_KEY
        settings.PAYMONGO_WEBHOOK_SECRET = WEBHOOK_SECRET
        settings.PAYMONGO_API_BASE = standin.url
        settings.PAYMONGO_LIVE = False
        yield standin


def checkout(amount=AMOUNT):
    return PayMongoGateway().create_checkout(
        Payable("PAY-TEST", 1, 2),
        amount,
        "PHP",
        success_url="https://talaan.example/done",
        cancel_url="https://talaan.example/done",
        description="Application R-1",
    )


def test_checkout_session_is_created_with_basic_auth_and_centavos(paymongo):
    result = checkout()
    path, authorization, body = paymongo.requests[-1]
    assert path == "/v1/checkout_sessions"
    assert authorization == "Basic " + base64.b64encode(f"{SECRET_KEY}:".encode()).decode()
    item = body["data"]["attributes"]["line_items"][0]
    assert (item["amount"], item["currency"], item["quantity"]) == (AMOUNT, "PHP", 1)
    assert body["data"]["attributes"]["reference_number"] == "PAY-TEST"
    assert result.id.startswith("cs_") and result.id in paymongo.sessions
    assert result.redirect_url == f"{paymongo.url}/checkout/{result.id}"


def test_what_paymongo_refuses_is_a_clear_error(paymongo, settings):
    with pytest.raises(GatewayRefused, match="amount must be at least 2000") as below:
        checkout(1999)
    assert below.value.errors[0]["code"] == "parameter_invalid"
    with pytest.raises(GatewayRefused, match="parameter_format_invalid: amount must be an integer"):
        checkout(1500.5)  # type: ignore[arg-type]
    settings.PAYMONGO_SECRET_KEY = "sk_test_wrong"
    with pytest.raises(GatewayMisconfigured, match="PayMongo refused the secret key"):
        checkout()


def test_a_refused_checkout_leaves_a_failed_payment_and_frees_the_assessment(world, paymongo):
    application = draft_application(world)
    with pytest.raises(GatewayRefused):
        payment_services.payment_start(
            payer=world.owner, application_id=application.pk, assessment_id=9, amount_centavos=500
        )
    assert list(Payment.objects.values_list("status", flat=True)) == ["failed"]
    url = payment_services.payment_start(
        payer=world.owner, application_id=application.pk, assessment_id=9, amount_centavos=AMOUNT
    )
    assert url.startswith(paymongo.url + "/checkout/cs_")


def started(world, paymongo) -> Payment:
    application = draft_application(world)
    payment_services.payment_start(
        payer=world.owner, application_id=application.pk, assessment_id=11, amount_centavos=AMOUNT
    )
    return Payment.objects.get(status="pending")


@pytest.mark.django_db(transaction=True)
def test_signed_webhook_over_http_pays_and_a_duplicate_is_harmless(world, paymongo, live_server):
    payment = started(world, paymongo)
    url = live_server.url + reverse("payment-callback", args=["paymongo"])
    body = paymongo.paid_event(payment.provider_checkout_id)
    headers = paymongo.signed(body)
    first = paymongo.send_webhook(url, body, headers)
    assert (first.status_code, first.json()) == (200, {"outcome": "applied"})
    payment.refresh_from_db()
    assert payment.status == "paid" and payment.provider_payment_id.startswith("pay_")
    again = paymongo.send_webhook(url, body, headers)
    assert (again.status_code, again.json()) == (200, {"outcome": "duplicate"})
    assert PaymentEvent.objects.count() == 1


def post_webhook(client, body, headers):
    return client.post(
        reverse("payment-callback", args=["paymongo"]),
        data=body,
        content_type="application/json",
        HTTP_PAYMONGO_SIGNATURE=headers["Paymongo-Signature"],
    )


def test_a_tampered_webhook_is_refused(world, paymongo, client):
    payment = started(world, paymongo)
    body = paymongo.paid_event(payment.provider_checkout_id)
    headers = paymongo.signed(body)
    tampered = body.replace(b'"status": "paid"', b'"status": "paid" ', 1)
    assert post_webhook(client, tampered, headers).status_code == 400
    payment.refresh_from_db()
    assert payment.status == "pending" and PaymentEvent.objects.count() == 0


def test_the_signature_field_follows_the_mode(world, paymongo, client, settings):
    payment = started(world, paymongo)
    body = paymongo.paid_event(payment.provider_checkout_id)
    live_signed = paymongo.signed(body, live=True)
    # Test mode checks `te`: a header signed only in `li` is refused.
    assert post_webhook(client, body, live_signed).status_code == 400
    settings.PAYMONGO_LIVE = True
    assert post_webhook(client, body, paymongo.signed(body, live=False)).status_code == 400
    assert PaymentEvent.objects.count() == 0
    assert post_webhook(client, body, live_signed).json() == {"outcome": "applied"}
    payment.refresh_from_db()
    assert payment.status == "paid"


def test_a_webhook_for_a_different_amount_pays_nothing(world, paymongo, client):
    payment = started(world, paymongo)
    body = paymongo.paid_event(payment.provider_checkout_id, amount=AMOUNT - 100)
    assert post_webhook(client, body, paymongo.signed(body)).json() == {
        "outcome": "amount_mismatch"
    }
    payment.refresh_from_db()
    assert payment.status == "pending"


def test_refund_goes_through_paymongos_refund_api(world, paymongo, client):
    payment = started(world, paymongo)
    body = paymongo.paid_event(payment.provider_checkout_id)
    post_webhook(client, body, paymongo.signed(body))
    payment.refresh_from_db()
    refund = payment_services.refund_record(
        staff=world.lto_admin,
        payment_id=payment.pk,
        amount_centavos=50000,
        reason="Assessed twice",
        reference="LTO-RF-0001",
    )
    path, _, sent = paymongo.requests[-1]
    assert path == "/v1/refunds"
    assert sent["data"]["attributes"]["payment_id"] == payment.provider_payment_id
    assert sent["data"]["attributes"]["amount"] == 50000
    assert refund.provider_refund_id in paymongo.refunds
    payment.refresh_from_db()
    assert payment.status == "partially_refunded"
    # PayMongo's refund minimum (100 centavos) surfaces as a clear error; nothing is recorded.
    with pytest.raises(GatewayRefused, match="amount must be at least 100"):
        payment_services.refund_record(
            staff=world.lto_admin,
            payment_id=payment.pk,
            amount_centavos=99,
            reason="x",
            reference="LTO-RF-0002",
        )
    assert Refund.objects.count() == 1
    payment.refresh_from_db()
    assert payment.status == "partially_refunded"


def test_configuring_paymongo_shuts_the_sandbox(world, paymongo, client):
    from payments.gateways.sandbox import paid_event_body, signed_headers

    body = paid_event_body(checkout_id="sbx_cs_x", reference="PAY-X", amount_centavos=AMOUNT)
    extra = {"HTTP_SANDBOX_SIGNATURE": signed_headers(body)["Sandbox-Signature"]}
    callback = reverse("payment-callback", args=["sandbox"])
    response = client.post(callback, data=body, content_type="application/json", **extra)
    assert response.status_code == 404
    assert client.get(reverse("payment-sandbox-checkout", args=["sbx_cs_x"])).status_code == 404
    assert PaymentEvent.objects.count() == 0
