"""Thin Celery tasks for the registry: they call a service and declare their limits."""

from __future__ import annotations

from celery import shared_task

from registry.document_services import documents_verify
from registry.reminders import registrations_expiring_notify
from registry.sales import sale_invitation_send, sale_invitations_resend, sales_expire


@shared_task(soft_time_limit=3000, time_limit=3300)
def verify_documents() -> str:
    """The nightly integrity sweep: every document re-read and checked against the ledger,
    so an altered file is found (and reported to the LTO) even if nobody opens it."""
    return documents_verify().summary()


@shared_task(soft_time_limit=240, time_limit=280)
def notify_expiring_registrations() -> int:
    """Beat job: remind owners 30, 7 and 1 days before their registration ends."""
    return registrations_expiring_notify()


@shared_task(soft_time_limit=60, time_limit=90)
def send_sale_invitation(sale_id: int) -> bool:
    """E-mail a new sale's buyer their link (the sweep re-sends it if this fails)."""
    return sale_invitation_send(sale_id=sale_id)


@shared_task(soft_time_limit=240, time_limit=280)
def sweep_sales() -> str:
    """Beat job: send invitations that never went out; expire sales nobody answered."""
    return f"{sale_invitations_resend()} invitations sent, {sales_expire()} sales expired"
