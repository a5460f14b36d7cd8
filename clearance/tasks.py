"""Thin Celery tasks of clearance: they call a service and declare their limits."""

from __future__ import annotations

from celery import shared_task

from clearance.reminders import clearances_overdue_notify


@shared_task(soft_time_limit=240, time_limit=280)
def notify_overdue_clearances() -> int:
    """Beat job: tell admins, once, about open clearance requests past their deadline."""
    return clearances_overdue_notify()
