"""`manage.py check --deploy`: the sandbox gateway lets anyone press Pay without paying."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import checks


@checks.register(checks.Tags.security, deploy=True)
def payment_gateway_is_real(**kwargs: Any) -> list[checks.CheckMessage]:
    messages: list[checks.CheckMessage] = []
    if settings.PAYMENT_GATEWAY == "sandbox":
        messages.append(
            checks.Warning(
                "PAYMENT_GATEWAY is 'sandbox': payers can mark a payment paid without paying.",
                hint="Set PAYMENT_GATEWAY=paymongo with PAYMONGO_SECRET_KEY and "
                "PAYMONGO_WEBHOOK_SECRET.",
                id="payments.W001",
            )
        )
    elif settings.PAYMENT_GATEWAY == "paymongo" and not (
        settings.PAYMONGO_SECRET_KEY and settings.PAYMONGO_WEBHOOK_SECRET
    ):
        messages.append(
            checks.Error(
                "PAYMENT_GATEWAY is 'paymongo' but PAYMONGO_SECRET_KEY or "
                "PAYMONGO_WEBHOOK_SECRET is not set: checkouts fail and webhooks are refused.",
                id="payments.E001",
            )
        )
    return messages
