"""The sandbox gateway: a hosted checkout inside the app itself, for `make run` and tests.

create_checkout sends the payer to /payments/sandbox/<id>/, where they press Pay or Cancel.
Pay makes the sandbox send the app a callback signed exactly as PayMongo signs its webhooks
(HMAC-SHA256 of ``t + "." + raw body`` under PAYMENT_SANDBOX_SECRET, in the ``te`` field), so
the callback goes through the same verification as a real provider's."""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Mapping
from datetime import timedelta

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from payments.gateways.base import (
    CallbackEvent,
    Checkout,
    Payable,
    RefundResult,
    parse_event,
    signature_header,
    verify_signature,
)

SIGNATURE_HEADER = "Sandbox-Signature"


def sandbox_secret() -> str:
    return str(settings.PAYMENT_SANDBOX_SECRET)


class SandboxGateway:
    name = "sandbox"
    supports_refunds = True

    def create_checkout(
        self,
        payable: Payable,
        amount_centavos: int,
        currency: str,
        success_url: str,
        cancel_url: str,
        description: str,
    ) -> Checkout:
        checkout_id = "sbx_cs_" + secrets.token_urlsafe(18)
        return Checkout(
            id=checkout_id,
            redirect_url=reverse("payment-sandbox-checkout", args=[checkout_id]),
            expires_at=timezone.now() + timedelta(minutes=settings.PAYMENT_CHECKOUT_MINUTES),
        )

    def parse_callback(self, headers: Mapping[str, str], raw_body: bytes) -> CallbackEvent:
        verify_signature(
            headers.get(SIGNATURE_HEADER),
            raw_body,
            sandbox_secret(),
            live=False,
            tolerance_seconds=settings.PAYMENT_CALLBACK_TOLERANCE_SECONDS,
        )
        return parse_event(self.name, raw_body)

    def refund(self, provider_payment_id: str, amount_centavos: int, reason: str) -> RefundResult:
        return RefundResult(
            provider_refund_id="sbx_ref_" + secrets.token_urlsafe(12), status="succeeded"
        )


def paid_event_body(
    *, checkout_id: str, reference: str, amount_centavos: int, currency: str = "PHP"
) -> bytes:
    """The body of a ``checkout_session.payment.paid`` event, in PayMongo's envelope."""
    now = int(time.time())
    event = {
        "data": {
            "id": "sbx_evt_" + secrets.token_urlsafe(12),
            "type": "event",
            "attributes": {
                "type": "checkout_session.payment.paid",
                "livemode": False,
                "created_at": now,
                "data": {
                    "id": checkout_id,
                    "type": "checkout_session",
                    "attributes": {
                        "reference_number": reference,
                        "payments": [
                            {
                                "id": "sbx_pay_" + secrets.token_urlsafe(12),
                                "type": "payment",
                                "attributes": {
                                    "amount": amount_centavos,
                                    "currency": currency,
                                    "status": "paid",
                                },
                            }
                        ],
                    },
                },
            },
        }
    }
    return json.dumps(event).encode()


def signed_headers(raw_body: bytes, secret: str | None = None) -> dict[str, str]:
    return {SIGNATURE_HEADER: signature_header(secret or sandbox_secret(), raw_body, live=False)}
