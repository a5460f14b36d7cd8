"""Write notifications inside the caller's transaction; deliver them after it commits."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from functools import partial

from django.contrib.auth.models import AbstractBaseUser
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from notifications.models import Delivery, Event, Notification

logger = logging.getLogger(__name__)


def notify(
    *, recipients: Iterable[AbstractBaseUser], event: Event, title: str, body: str, link: str
) -> list[Notification]:
    """Write one notification per recipient (once each) and deliver them after commit."""
    unique = {user.pk: user for user in recipients}
    notifications = Notification.objects.bulk_create(
        Notification(recipient=user, event=event, title=title, body=body, link=link)
        for user in unique.values()
    )
    Delivery.objects.bulk_create(
        Delivery(notification=notification, channel=Delivery.Channel.EMAIL)
        for notification in notifications
        if notification.recipient.email
    )
    ids = [notification.pk for notification in notifications]
    if ids:
        transaction.on_commit(partial(_enqueue_delivery, ids))
    return notifications


def _enqueue_delivery(notification_ids: list[int]) -> None:
    """Hand the delivery to Celery; if the broker is down, the periodic sweep sends it later."""
    from notifications.tasks import deliver_notifications

    try:
        deliver_notifications.delay(notification_ids)
    except Exception:  # a broker outage must not turn a committed change into an error
        logger.warning(
            "Could not queue delivery of notifications %s; the sweep will resend them.",
            notification_ids,
            exc_info=True,
        )


def delivery_send(*, delivery_id: int) -> bool:
    """Send one pending delivery; record the outcome. Returns False when it must be retried."""
    with transaction.atomic():
        delivery = (
            Delivery.objects.select_for_update(skip_locked=True)
            .select_related("notification__recipient")
            .filter(pk=delivery_id)
            .exclude(state=Delivery.State.SENT)
            .first()
        )
        if delivery is None:
            return True
        notification = delivery.notification
        delivery.attempts += 1
        try:
            send_mail(
                subject=notification.title,
                message=f"{notification.body}\n\n{notification.link}".strip(),
                from_email=None,
                recipient_list=[notification.recipient.email],
            )
        except Exception as exc:  # any transport failure is retried later, never dropped
            delivery.state = Delivery.State.FAILED
            delivery.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            delivery.save(update_fields=["state", "attempts", "last_error", "updated_at"])
            return False
        delivery.state = Delivery.State.SENT
        delivery.sent_at = timezone.now()
        delivery.last_error = ""
        delivery.save(update_fields=["state", "attempts", "last_error", "sent_at", "updated_at"])
        return True
