"""The gateway interface every payment backend implements, and the signed-callback check
the sandbox and PayMongo share.

Amounts are integers in centavos everywhere (10000 = PHP 100.00) and PHP is the only
currency. A callback is trusted only after its signature header verifies: the header is
PayMongo's ``Paymongo-Signature`` shape, ``t=<unix time>,te=<hex>,li=<hex>``, each signature
an HMAC-SHA256 of ``t + "." + raw body`` under the webhook secret (``te`` in test mode,
``li`` in live mode)."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from django.utils.translation import gettext_lazy as _

from kernel.errors import DomainError
from kernel.i18n import Message

CURRENCY = "PHP"


class GatewayError(DomainError):
    """The payment provider could not be reached or failed; trying again later may help."""

    code = "payment_gateway_unavailable"
    http_status = 503
    retryable = True
    default_message = "The payment provider is not available right now. Try again later."


class GatewayRefused(DomainError):
    """The provider refused the request as invalid (its errors[] are in ``errors``)."""

    code = "payment_refused"
    http_status = 422
    default_message = "The payment provider refused this payment."

    def __init__(self, message: str | None = None, errors: list[dict[str, Any]] | None = None):
        super().__init__(message)
        self.errors = errors or []


class GatewayMisconfigured(GatewayError):
    """The provider refused our credentials (HTTP 401): a setting is wrong, not the payer."""

    code = "payment_gateway_misconfigured"
    retryable = False
    default_message = "Online payment is not configured correctly. Please tell the LTO."


class InvalidCallback(DomainError):
    """A callback that is not provably from the provider: it changes nothing."""

    code = "invalid_callback"
    http_status = 400
    default_message = "The callback could not be verified."


@dataclass(frozen=True)
class Payable:
    """What is paid for, as plain identifiers (the assessment model lives elsewhere)."""

    reference: str
    application_id: int
    assessment_id: int


@dataclass(frozen=True)
class Checkout:
    id: str
    redirect_url: str
    expires_at: datetime


@dataclass(frozen=True)
class CallbackEvent:
    """A verified provider event, reduced to what a payment needs."""

    provider: str
    event_id: str
    type: str
    checkout_id: str
    payment_id: str
    amount_centavos: int | None
    currency: str
    status: str
    livemode: bool
    payload: dict[str, Any]


@dataclass(frozen=True)
class RefundResult:
    provider_refund_id: str
    status: str


class Gateway(Protocol):
    name: str
    supports_refunds: bool

    def create_checkout(
        self,
        payable: Payable,
        amount_centavos: int,
        currency: str,
        success_url: str,
        cancel_url: str,
        description: str,
    ) -> Checkout: ...

    def parse_callback(self, headers: Mapping[str, str], raw_body: bytes) -> CallbackEvent: ...

    def refund(
        self, provider_payment_id: str, amount_centavos: int, reason: str
    ) -> RefundResult: ...


# The event that settles a hosted checkout as paid. A failed attempt settles nothing: the
# payer may try another method in the same session, and an abandoned one expires.
PAID_EVENTS = frozenset({"checkout_session.payment.paid"})


def sign(secret: str, timestamp: int, raw_body: bytes) -> str:
    message = str(timestamp).encode() + b"." + raw_body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_header(secret: str, raw_body: bytes, *, live: bool, timestamp: int | None = None):
    """A ``t=…,te=…,li=…`` header, the signature in the field of the mode (the other empty)."""
    t = int(time.time()) if timestamp is None else timestamp
    signature = sign(secret, t, raw_body)
    return f"t={t},te={'' if live else signature},li={signature if live else ''}"


def verify_signature(
    header: str | None, raw_body: bytes, secret: str, *, live: bool, tolerance_seconds: int
) -> None:
    """Raise InvalidCallback unless ``header`` signs ``raw_body`` with ``secret``.

    The field compared is chosen by our own mode (PAYMONGO_LIVE), never by what the header
    happens to carry, so a test-mode signature can never pass on a live deployment. The age
    limit is Talaan's own guard against replays (PayMongo documents none)."""
    if not secret:
        raise InvalidCallback(_("No webhook secret is configured; callbacks cannot be verified."))
    if not header:
        raise InvalidCallback(_("The signature header is missing."))
    fields: dict[str, str] = {}
    for part in header.split(","):
        key, sep, value = part.strip().partition("=")
        if sep:
            fields[key] = value
    try:
        timestamp = int(fields["t"])
    except (KeyError, ValueError):
        raise InvalidCallback(_("The signature header has no valid timestamp.")) from None
    given = fields.get("li" if live else "te", "")
    if not given:
        mode = "live" if live else "test"
        raise InvalidCallback(
            Message(_("The signature header has no %(mode)s-mode signature."), {"mode": mode})
        )
    if not hmac.compare_digest(given, sign(secret, timestamp, raw_body)):
        raise InvalidCallback(_("The signature does not match the body."))
    if abs(time.time() - timestamp) > tolerance_seconds:
        raise InvalidCallback(_("The signature's timestamp is too old (a replay?)."))


def parse_event(provider: str, raw_body: bytes) -> CallbackEvent:
    """Read PayMongo's event envelope (the sandbox sends the same one).

    ``data.id`` is the event id (deduplicated on), ``data.attributes.type`` its type and
    ``data.attributes.data`` the resource: a checkout session (its ``payments[]``) or a
    payment."""
    try:
        payload = json.loads(raw_body)
        event = payload["data"]
        attributes = event["attributes"]
        resource = attributes["data"]
        event_id = str(event["id"])
        event_type = str(attributes["type"])
    except (ValueError, KeyError, TypeError):
        raise InvalidCallback(_("The callback is not an event this app understands.")) from None
    resource_attrs = resource.get("attributes") or {}
    checkout_id = ""
    payment: dict[str, Any] = {}
    if resource.get("type") == "checkout_session":
        checkout_id = str(resource.get("id", ""))
        payments = resource_attrs.get("payments") or []
        payment = payments[0] if payments else {}
    elif resource.get("type") == "payment":
        payment = resource
    payment_attrs = payment.get("attributes") or {}
    amount = payment_attrs.get("amount")
    return CallbackEvent(
        provider=provider,
        event_id=event_id,
        type=event_type,
        checkout_id=checkout_id,
        payment_id=str(payment.get("id", "")),
        # A float or string is never taken as an amount: only an integer of centavos.
        amount_centavos=amount
        if isinstance(amount, int) and not isinstance(amount, bool)
        else None,
        currency=str(payment_attrs.get("currency", "")),
        status=str(payment_attrs.get("status", "")),
        livemode=bool(attributes.get("livemode", False)),
        payload=payload,
    )
