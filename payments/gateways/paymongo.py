"""PayMongo's REST API: hosted checkout sessions, signed webhooks and refunds.

What PayMongo documents and this follows (sources in README's "Payment" section):
- HTTP Basic with the secret key as the user name and an empty password;
- JSON:API envelopes, ``{"data": {"attributes": {...}}}``; amounts as integers in centavos,
  PHP only; errors as ``{"errors": [{"code", "detail", "source"}]}`` with 400 for an invalid
  request and 401 for a missing or wrong key (200 for every successful create);
- ``POST /v1/checkout_sessions`` answering a ``cs_`` session with its ``checkout_url``;
- webhooks signed in ``Paymongo-Signature: t=…,te=…,li=…`` (see gateways.base);
- ``POST /v1/refunds`` with the payment's ``pay_`` id.
A session's lifetime is not documented, so the checkout's expiry here is our own
(PAYMENT_CHECKOUT_MINUTES) and the sweep marks the payment expired after it."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import httpx
from django.conf import settings
from django.utils import timezone

from payments.gateways.base import (
    CallbackEvent,
    Checkout,
    GatewayError,
    GatewayMisconfigured,
    GatewayRefused,
    Payable,
    RefundResult,
    parse_event,
    verify_signature,
)

SIGNATURE_HEADER = "Paymongo-Signature"
TIMEOUT_SECONDS = 15


class PayMongoGateway:
    name = "paymongo"
    supports_refunds = True

    def __init__(self) -> None:
        self.secret_key = str(settings.PAYMONGO_SECRET_KEY)
        self.webhook_secret = str(settings.PAYMONGO_WEBHOOK_SECRET)
        self.api_base = str(settings.PAYMONGO_API_BASE).rstrip("/")
        self.live = bool(settings.PAYMONGO_LIVE)

    def _post(self, path: str, attributes: dict[str, Any]) -> dict[str, Any]:
        if not self.secret_key:
            raise GatewayMisconfigured("PAYMONGO_SECRET_KEY is not set.")
        try:
            response = httpx.post(
                self.api_base + path,
                json={"data": {"attributes": attributes}},
                auth=(self.secret_key, ""),
                timeout=TIMEOUT_SECONDS,
            )
        except httpx.HTTPError as exc:
            raise GatewayError(f"PayMongo could not be reached ({type(exc).__name__}).") from None
        try:
            body = response.json()
        except ValueError:
            body = {}
        if response.status_code == 200:
            return body.get("data") or {}
        errors = body.get("errors") if isinstance(body, dict) else None
        errors = errors if isinstance(errors, list) else []
        # Every entry counts (PayMongo may send several); detail is for logs and staff.
        detail = "; ".join(
            f"{e.get('code', 'error')}: {e.get('detail', '')}"
            for e in errors
            if isinstance(e, dict)
        )
        if response.status_code == 401:
            raise GatewayMisconfigured(f"PayMongo refused the secret key ({detail or '401'}).")
        if response.status_code == 400:
            raise GatewayRefused(f"PayMongo refused the request: {detail}", errors)
        raise GatewayError(f"PayMongo answered {response.status_code}: {detail}")

    def create_checkout(
        self,
        payable: Payable,
        amount_centavos: int,
        currency: str,
        success_url: str,
        cancel_url: str,
        description: str,
    ) -> Checkout:
        session = self._post(
            "/v1/checkout_sessions",
            {
                "line_items": [
                    {
                        "name": description,
                        "amount": amount_centavos,
                        "currency": currency,
                        "quantity": 1,
                    }
                ],
                "payment_method_types": list(settings.PAYMONGO_PAYMENT_METHOD_TYPES),
                "success_url": success_url,
                "cancel_url": cancel_url,
                "description": description,
                "reference_number": payable.reference,
                "metadata": {
                    "application_id": str(payable.application_id),
                    "assessment_id": str(payable.assessment_id),
                },
            },
        )
        attributes = session.get("attributes") or {}
        if not session.get("id") or not attributes.get("checkout_url"):
            raise GatewayError("PayMongo answered without a checkout session.")
        return Checkout(
            id=str(session["id"]),
            redirect_url=str(attributes["checkout_url"]),
            expires_at=timezone.now() + timedelta(minutes=settings.PAYMENT_CHECKOUT_MINUTES),
        )

    def parse_callback(self, headers: Mapping[str, str], raw_body: bytes) -> CallbackEvent:
        verify_signature(
            headers.get(SIGNATURE_HEADER),
            raw_body,
            self.webhook_secret,
            live=self.live,
            tolerance_seconds=settings.PAYMENT_CALLBACK_TOLERANCE_SECONDS,
        )
        return parse_event(self.name, raw_body)

    def refund(self, provider_payment_id: str, amount_centavos: int, reason: str) -> RefundResult:
        refund = self._post(
            "/v1/refunds",
            {
                "amount": amount_centavos,
                "payment_id": provider_payment_id,
                # PayMongo's reasons are a short list; ours is free text, kept in notes.
                "reason": "others",
                "notes": reason[:255],
            },
        )
        attributes = refund.get("attributes") or {}
        return RefundResult(
            provider_refund_id=str(refund.get("id", "")), status=str(attributes.get("status", ""))
        )
