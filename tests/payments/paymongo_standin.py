"""A loopback stand-in for PayMongo's REST API (the internet is not reachable here).

A real HTTP server on 127.0.0.1, in a thread, that answers the way PayMongo documents
(sources in README's "Payment" section) and refuses what PayMongo would refuse:
- HTTP Basic with the secret key as user name and an empty password, else 401 with
  PayMongo's error shape ``{"errors": [{"code", "detail"}]}``;
- ``POST /v1/checkout_sessions``: line items required; each amount an integer of centavos
  (a float, string or boolean is ``parameter_format_invalid``) of at least 2000 (PayMongo's
  documented "amount must be at least 2000." example; that checkout sessions use the same
  minimum is an inference); currency PHP only; payment_method_types, success_url and
  cancel_url required; 400 with errors[] otherwise, 200 with a ``cs_`` session and its
  ``checkout_url`` when valid;
- ``POST /v1/refunds``: an integer amount of at least 100 centavos, no more than the paid
  payment's amount still unrefunded, for a ``pay_`` id it knows; 200 with a ``ref_`` refund;
- ``pay(session_id)`` marks a session paid and sends the app a ``checkout_session.payment.paid``
  webhook signed as PayMongo signs them: ``Paymongo-Signature: t=…,te=…,li=…``, the HMAC-SHA256
  of ``t + "." + raw body`` under the webhook secret, in ``te`` (test mode) or ``li`` (live).
Not modelled: PayMongo's session lifetime (undocumented) and webhook retries."""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

from payments.gateways.base import signature_header

MINIMUM_CHECKOUT_CENTAVOS = 2000
MINIMUM_REFUND_CENTAVOS = 100


def _error(code: str, detail: str, pointer: str | None = None) -> dict[str, Any]:
    entry: dict[str, Any] = {"code": code, "detail": detail}
    if pointer:
        entry["source"] = {"pointer": pointer, "attribute": pointer.rsplit(".", 1)[-1]}
    return entry


def _is_integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass
class PayMongoStandIn:
    secret_key: str
    webhook_secret: str
    livemode: bool = False
    url: str = ""
    sessions: dict[str, dict[str, Any]] = field(default_factory=dict)
    payments: dict[str, dict[str, Any]] = field(default_factory=dict)
    refunds: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Every request as received: (path, Authorization header, parsed body).
    requests: list[tuple[str, str, Any]] = field(default_factory=list)

    # --- the API --------------------------------------------------------------------------

    def handle(self, path: str, authorization: str, raw: bytes) -> tuple[int, dict[str, Any]]:
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            body = None
        self.requests.append((path, authorization, body))
        expected = "Basic " + base64.b64encode(f"{self.secret_key}:".encode()).decode()
        if authorization != expected:
            return 401, {"errors": [_error("unauthorized", "API key is missing or invalid.")]}
        attributes = (
            (body or {}).get("data", {}).get("attributes") if isinstance(body, dict) else None
        )
        if not isinstance(attributes, dict):
            return 400, {"errors": [_error("parameter_required", "data.attributes is required.")]}
        if path == "/v1/checkout_sessions":
            return self._checkout_session(attributes)
        if path == "/v1/refunds":
            return self._refund(attributes)
        return 404, {"errors": [_error("resource_not_found", f"No route {path}.")]}

    def _checkout_session(self, attributes: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        errors = []
        items = attributes.get("line_items")
        if not isinstance(items, list) or not items:
            errors.append(
                _error("parameter_required", "line_items is required.", "attributes.line_items")
            )
        for index, item in enumerate(items if isinstance(items, list) else []):
            pointer = f"attributes.line_items[{index}]"
            amount = item.get("amount")
            if not _is_integer(amount):
                errors.append(
                    _error(
                        "parameter_format_invalid",
                        "amount must be an integer.",
                        pointer + ".amount",
                    )
                )
            elif amount < MINIMUM_CHECKOUT_CENTAVOS:
                errors.append(
                    _error(
                        "parameter_invalid",
                        f"amount must be at least {MINIMUM_CHECKOUT_CENTAVOS}.",
                        pointer + ".amount",
                    )
                )
            if item.get("currency") != "PHP":
                errors.append(
                    _error("parameter_invalid", "currency must be PHP.", pointer + ".currency")
                )
            if not item.get("name") or not _is_integer(item.get("quantity")):
                errors.append(
                    _error("parameter_required", "name and quantity are required.", pointer)
                )
        for name in ("success_url", "cancel_url"):
            if not isinstance(attributes.get(name), str) or not attributes.get(name):
                errors.append(
                    _error("parameter_required", f"{name} is required.", "attributes." + name)
                )
        methods = attributes.get("payment_method_types")
        if not isinstance(methods, list) or not methods:
            errors.append(
                _error(
                    "parameter_required",
                    "payment_method_types is required.",
                    "attributes.payment_method_types",
                )
            )
        if errors:
            return 400, {"errors": errors}
        session_id = "cs_" + secrets.token_hex(12)
        session = {
            "id": session_id,
            "type": "checkout_session",
            "attributes": {
                **attributes,
                "checkout_url": f"{self.url}/checkout/{session_id}",
                "client_key": f"{session_id}_client_{secrets.token_hex(8)}",
                "livemode": self.livemode,
                "status": "active",
                "payments": [],
                "created_at": int(time.time()),
                "updated_at": int(time.time()),
            },
        }
        self.sessions[session_id] = session
        return 200, {"data": session}

    def _refund(self, attributes: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        amount = attributes.get("amount")
        payment = self.payments.get(str(attributes.get("payment_id")))
        if payment is None:
            return 400, {
                "errors": [
                    _error(
                        "resource_not_found",
                        "payment_id is not a payment.",
                        "attributes.payment_id",
                    )
                ]
            }
        if not _is_integer(amount):
            return 400, {
                "errors": [
                    _error(
                        "parameter_format_invalid",
                        "amount must be an integer.",
                        "attributes.amount",
                    )
                ]
            }
        if amount < MINIMUM_REFUND_CENTAVOS:
            return 400, {
                "errors": [
                    _error(
                        "parameter_invalid",
                        f"amount must be at least {MINIMUM_REFUND_CENTAVOS}.",
                        "attributes.amount",
                    )
                ]
            }
        refunded = sum(
            r["attributes"]["amount"]
            for r in self.refunds.values()
            if r["attributes"]["payment_id"] == payment["id"]
        )
        if amount > payment["attributes"]["amount"] - refunded:
            return 400, {
                "errors": [
                    _error(
                        "parameter_invalid",
                        "amount exceeds the refundable amount.",
                        "attributes.amount",
                    )
                ]
            }
        refund_id = "ref_" + secrets.token_hex(12)
        refund = {
            "id": refund_id,
            "type": "refund",
            "attributes": {
                "amount": amount,
                "currency": "PHP",
                "payment_id": payment["id"],
                "reason": attributes.get("reason"),
                "notes": attributes.get("notes"),
                "status": "pending",
                "livemode": self.livemode,
            },
        }
        self.refunds[refund_id] = refund
        return 200, {"data": refund}

    # --- the payer and the webhooks -------------------------------------------------------

    def paid_event(self, session_id: str, *, amount: int | None = None) -> bytes:
        """The payer pays the session: the ``checkout_session.payment.paid`` event's body."""
        session = self.sessions[session_id]
        item = session["attributes"]["line_items"][0]
        payment = {
            "id": "pay_" + secrets.token_hex(12),
            "type": "payment",
            "attributes": {
                "amount": item["amount"] if amount is None else amount,
                "currency": item["currency"],
                "status": "paid",
                "livemode": self.livemode,
            },
        }
        self.payments[payment["id"]] = payment
        session["attributes"]["payments"] = [payment]
        event = {
            "data": {
                "id": "evt_" + secrets.token_hex(12),
                "type": "event",
                "attributes": {
                    "type": "checkout_session.payment.paid",
                    "livemode": self.livemode,
                    "created_at": int(time.time()),
                    "data": session,
                },
            }
        }
        return json.dumps(event).encode()

    def signed(self, body: bytes, *, live: bool | None = None) -> dict[str, str]:
        live = self.livemode if live is None else live
        return {"Paymongo-Signature": signature_header(self.webhook_secret, body, live=live)}

    def send_webhook(self, url: str, body: bytes, headers: dict[str, str]) -> httpx.Response:
        """POST an event to the app as PayMongo does (JSON, the signature header)."""
        return httpx.post(
            url,
            content=body,
            headers={"Content-Type": "application/json", **headers},
            trust_env=False,
        )


@contextmanager
def running(
    secret_key: str, webhook_secret: str, *, livemode: bool = False
) -> Iterator[PayMongoStandIn]:
    standin = PayMongoStandIn(secret_key, webhook_secret, livemode)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            status, body = standin.handle(self.path, self.headers.get("Authorization", ""), raw)
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    standin.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield standin
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
