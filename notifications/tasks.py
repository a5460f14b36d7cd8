"""Thin Celery tasks: they take ids, call a service, and declare retries and limits."""

from __future__ import annotations

from datetime import timedelta

from celery import Task, shared_task
from django.db.models import Q
from django.utils import timezone

from notifications import live, webhooks
from notifications.models import Delivery
from notifications.services import delivery_send


@shared_task(bind=True, max_retries=8, soft_time_limit=30, time_limit=45)
def deliver_notifications(self: Task, notification_ids: list[int]) -> None:
    """Send every unsent delivery (email, SMS) of these notifications."""
    pending = Delivery.objects.filter(
        notification_id__in=notification_ids, state__in=Delivery.UNSENT
    ).order_by("pk")
    failed = [
        pk for pk in pending.values_list("pk", flat=True) if not delivery_send(delivery_id=pk)
    ]
    if failed and not self.request.is_eager:
        # Exponential backoff; the periodic sweep picks up whatever outlives the retries.
        # Run in-process (no broker), a retry would repeat at once inside the request: the
        # failure is recorded and left to the sweep instead.
        raise self.retry(countdown=min(2**self.request.retries * 10, 3600))


@shared_task(soft_time_limit=240, time_limit=280)
def redeliver_pending() -> int:
    """Re-send deliveries of any channel that were never sent (a mail, SMS gateway or broker
    outage, or a sender that died holding its claim), least recently tried first so that one
    that always fails cannot starve others."""
    now = timezone.now()
    # Left alone for two minutes after an attempt (its own task may still be retrying it), or
    # until its claim's lease has passed (the sender died: no need to wait any longer).
    resting = Q(claimed_until__isnull=True, updated_at__lt=now - timedelta(minutes=2))
    ids = list(
        Delivery.objects.filter(resting | Q(claimed_until__lte=now), state__in=Delivery.UNSENT)
        .order_by("updated_at", "pk")
        .values_list("pk", flat=True)[:500]
    )
    return sum(delivery_send(delivery_id=pk) for pk in ids)


# A push that reaches some users twice only refreshes their page twice: retrying is safe.
@shared_task(
    soft_time_limit=10,
    time_limit=15,
    autoretry_for=(Exception,),
    max_retries=3,
    default_retry_delay=1,
)
def push_live(user_ids: list[int], payload: dict) -> None:
    """The fallback of a live event the committing process could not publish (see
    notifications.live): send it, with each user's unread count, to each user's group."""
    live.push(user_ids, payload)


@shared_task(soft_time_limit=120, time_limit=150)
def deliver_webhooks(delivery_ids: list[int]) -> int:
    """Send these webhook deliveries now; failures wait for the sweep, which honours backoff."""
    return webhooks.deliver_many(delivery_ids=delivery_ids)


@shared_task(soft_time_limit=240, time_limit=280)
def deliver_due_webhooks() -> int:
    """Beat job: re-send webhook deliveries whose next attempt is due (also after an outage)."""
    return webhooks.deliver_due()
