"""Payment gateways: one small interface (base), a sandbox for development and tests, and
PayMongo. ``gateway_for(name)`` picks one by the name stored on each payment."""

from __future__ import annotations

from django.conf import settings

from payments.gateways.base import Gateway


def gateway_for(provider: str) -> Gateway:
    # Imported here: each backend reads its settings when it is built, not at import.
    if provider == "sandbox":
        from payments.gateways.sandbox import SandboxGateway

        return SandboxGateway()
    if provider == "paymongo":
        from payments.gateways.paymongo import PayMongoGateway

        return PayMongoGateway()
    raise ValueError(f"Unknown payment gateway {provider!r}")


def configured_gateway() -> Gateway:
    """The gateway new payments use (setting PAYMENT_GATEWAY)."""
    return gateway_for(settings.PAYMENT_GATEWAY)
