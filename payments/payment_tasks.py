"""Payment tasks: the sandbox's callback delivery and the sweep of abandoned checkouts."""

from __future__ import annotations

from celery import shared_task

from payments import payment_services
from payments.gateways.sandbox import paid_event_body, signed_headers
from payments.models import Payment


@shared_task
def deliver_sandbox_callback(checkout_id: str) -> str:
    """Send the app the sandbox's signed ``checkout_session.payment.paid`` event."""
    payment = Payment.objects.get(provider="sandbox", provider_checkout_id=checkout_id)
    body = paid_event_body(
        checkout_id=checkout_id,
        reference=payment.reference,
        amount_centavos=payment.amount_centavos,
        currency=payment.currency,
    )
    return payment_services.callback_receive("sandbox", signed_headers(body), body)


@shared_task
def expire_abandoned_payments() -> int:
    return payment_services.payments_expire_abandoned()
