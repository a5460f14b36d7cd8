"""Thin Celery tasks: they take ids, call a service, and declare retries and limits."""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from notifications.models import Delivery
from notifications.services import delivery_send


@shared_task(bind=True, max_retries=8, soft_time_limit=30, time_limit=45)
def deliver_notifications(self, notification_ids: list[int]) -> None:  # type: ignore[no-untyped-def]
    pending = Delivery.objects.filter(notification_id__in=notification_ids).exclude(
        state=Delivery.State.SENT
    )
    failed = [
        pk for pk in pending.values_list("pk", flat=True) if not delivery_send(delivery_id=pk)
    ]
    if failed:
        # Exponential backoff; the periodic sweep picks up whatever outlives the retries.
        raise self.retry(countdown=min(2**self.request.retries * 10, 3600))


@shared_task(soft_time_limit=240, time_limit=280)
def redeliver_pending() -> int:
    """Re-send deliveries that were never sent (a mail or broker outage), oldest first."""
    cutoff = timezone.now() - timedelta(minutes=2)
    ids = list(
        Delivery.objects.exclude(state=Delivery.State.SENT)
        .filter(updated_at__lt=cutoff)
        .order_by("created_at")
        .values_list("pk", flat=True)[:500]
    )
    return sum(delivery_send(delivery_id=pk) for pk in ids)


@shared_task(soft_time_limit=10, time_limit=15, max_retries=3, default_retry_delay=1)
def push_live(user_ids: list[int], payload: dict) -> None:
    """Send one live event to each user's Channels group (see notifications.consumers)."""
    from asgiref.sync import async_to_sync
    from channels.layers import get_channel_layer

    layer = get_channel_layer()
    for user_id in user_ids:
        async_to_sync(layer.group_send)(f"user-{user_id}", {"type": "live.event", **payload})
