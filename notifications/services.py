"""Write notifications inside the caller's transaction; deliver them after it commits."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from functools import partial
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from kernel.i18n import Message, render, user_language
from notifications import claims, events, senders
from notifications.live import announce_change
from notifications.models import Delivery, Notification, NotificationPreference
from notifications.queueing import queue_or_log
from notifications.selectors import (
    ChannelChoice,
    channels_wanted,
    events_for,
    mobile_number_of,
    notification_get_for_user,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import User

logger = logging.getLogger(__name__)

# The live event every new notification (and every "mark read") pushes, so bells update.
LIVE_EVENT = "notification"


def notify(
    *,
    recipients: Iterable[User],
    event: str,
    title: str | Promise | Message,
    body: str | Promise | Message,
    link: str,
    dedupe_key: str | None = None,
) -> list[Notification]:
    """Write one notification per recipient (once each) and deliver them after commit.

    Deliveries are created only for the channels each recipient wants. With ``dedupe_key``,
    recipients who already have a notification with that key are skipped; the unique
    constraint on (recipient, dedupe_key) stops a concurrent writer. ``event`` is a
    registered event (see notifications.events). A marked ``title`` or ``body`` (a lazy
    string or a ``kernel.i18n.Message``) is written in each recipient's own language.
    """
    event = events.get(event).name  # a LookupError for an event no app registers
    unique = {user.pk: user for user in recipients}
    if dedupe_key is not None and unique:
        told = Notification.objects.filter(recipient_id__in=unique, dedupe_key=dedupe_key)
        for pk in told.values_list("recipient_id", flat=True):
            unique.pop(pk, None)
    if not unique:
        return []
    notifications = Notification.objects.bulk_create(
        Notification(
            recipient=user,
            event=event,
            title=_fit(
                render(title, user_language(user)), Notification.title.field.max_length or 200
            ),
            body=render(body, user_language(user)).strip(),
            link=link,
            dedupe_key=dedupe_key,
        )
        for user in unique.values()
    )
    wanted = channels_wanted(users=unique.values(), event=event)
    deliveries = Delivery.objects.bulk_create(
        Delivery(notification=notification, channel=channel)
        for notification in notifications
        for channel in wanted[notification.recipient_id]
    )
    if deliveries:
        ids = sorted({delivery.notification_id for delivery in deliveries})
        transaction.on_commit(partial(_enqueue_delivery, ids))
    announce_change(user_ids=unique, event=LIVE_EVENT)
    return notifications


def _fit(text: str, length: int) -> str:
    # A translation may open with a filled-in word ("aprubado ang HPG clearance ..."), and may
    # run longer than the English the column was sized for.
    text = text[:1].upper() + text[1:]
    return text if len(text) <= length else text[: length - 3] + "..."


def _enqueue_delivery(notification_ids: list[int]) -> None:
    """Hand the delivery to Celery; if the broker is down, the periodic sweep sends it later."""
    queue_or_log(
        "notifications.tasks.deliver_notifications",
        notification_ids,
        failure=f"Could not queue delivery of notifications {notification_ids}; "
        "the sweep will resend them.",
    )


def _address(delivery: Delivery) -> str:
    # Read at send time: a number or address changed since the event is the one to use.
    if delivery.channel == Delivery.Channel.EMAIL:
        return delivery.notification.recipient.email
    return mobile_number_of(delivery.notification.recipient_id)


_SENDERS: dict[str, Callable[[Notification, str], None]] = {
    Delivery.Channel.EMAIL: senders.send_email,
    Delivery.Channel.SMS: senders.send_text_message,
}


def delivery_send(*, delivery_id: int) -> bool:
    """Send one unsent delivery; record the outcome. Returns False when it must be retried.

    Claim, commit, then send (see ``notifications.claims``): the SMTP or SMS gateway call runs
    with no transaction open and no row locked.
    """
    token = claims.new_token()
    claimed = _delivery_claim(delivery_id=delivery_id, token=token)
    if claimed is None:
        return True
    delivery, address = claimed
    try:
        _SENDERS[delivery.channel](delivery.notification, address)
    except Exception as exc:  # any transport failure is retried later, never dropped
        _delivery_record(delivery=delivery, token=token, error=f"{type(exc).__name__}: {exc}")
        return False
    _delivery_record(delivery=delivery, token=token, error=None)
    return True


@transaction.atomic(durable=True)
def _delivery_claim(*, delivery_id: int, token: str) -> tuple[Delivery, str] | None:
    """Claim an unsent, unclaimed delivery for one lease and commit; None if there is nothing
    to send (sent, skipped, or claimed by a sender whose lease still runs)."""
    now = timezone.now()
    # Lock only the delivery row, and only for this short transaction: locking the joined user
    # row would block their logins; skip_locked lets a concurrent sender take another one.
    delivery = (
        Delivery.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("notification__recipient")
        .filter(claims.unclaimed(now), pk=delivery_id, state__in=Delivery.UNSENT)
        .first()
    )
    if delivery is None:
        return None
    address = _address(delivery)
    if not address:
        delivery.state = Delivery.State.SKIPPED
        delivery.last_error = f"The recipient has no {delivery.get_channel_display()} address."
        delivery.save(update_fields=["state", "last_error", "updated_at"])
        return None
    delivery.attempts += 1
    delivery.claimed_until = now + claims.lease()
    delivery.claimed_by = token
    delivery.save(update_fields=["attempts", "claimed_until", "claimed_by", "updated_at"])
    return delivery, address


@transaction.atomic(durable=True)
def _delivery_record(*, delivery: Delivery, token: str, error: str | None) -> None:
    """Record one send's outcome and release the claim, in a short transaction of its own."""
    now = timezone.now()
    released = {"claimed_until": None, "claimed_by": "", "updated_at": now}
    if error is None:
        # A message that went out is a fact even if this sender's lease lapsed meanwhile and
        # another one claimed the row: marking it sent stops any further resend.
        rows = Delivery.objects.filter(pk=delivery.pk, state__in=Delivery.UNSENT)
        changed = rows.update(state=Delivery.State.SENT, sent_at=now, last_error="", **released)
    else:
        # A failure is recorded only under this sender's own claim: after a lapse, the newer
        # claim owns the row's outcome.
        rows = Delivery.objects.filter(pk=delivery.pk, claimed_by=token)
        changed = rows.update(state=Delivery.State.FAILED, last_error=error[:2000], **released)
    if not changed:
        logger.warning(
            "Delivery %s: the claim lapsed before its outcome was recorded; the outcome of a "
            "later claim stands.",
            delivery.pk,
        )


@transaction.atomic(durable=True)
def notification_mark_read(*, user: User, notification_id: int) -> Notification:
    """Mark one of the user's own notifications read (404 for anyone else's)."""
    notification = notification_get_for_user(user=user, pk=notification_id)
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at", "updated_at"])
        announce_change(user_ids=[user.pk], event=LIVE_EVENT)
    return notification


@transaction.atomic(durable=True)
def notifications_mark_all_read(*, user: User) -> int:
    """Mark every unread notification of the user read; returns how many changed."""
    now = timezone.now()
    changed = Notification.objects.filter(recipient=user, read_at__isnull=True).update(
        read_at=now, updated_at=now
    )
    if changed:
        announce_change(user_ids=[user.pk], event=LIVE_EVENT)
    return changed


@transaction.atomic(durable=True)
def preferences_update(*, user: User, choices: Mapping[str, ChannelChoice]) -> None:
    """Save the user's channel choice for each given event; an event the user cannot receive
    (or that no app registers) is refused and nothing is saved."""
    unknown = set(choices) - {event.name for event in events_for(user)}
    if unknown:
        raise ValidationError(
            _("Unknown events: %(items)s"), params={"items": ", ".join(sorted(unknown))}
        )
    NotificationPreference.objects.bulk_create(
        [
            NotificationPreference(user=user, event=event, email=choice.email, sms=choice.sms)
            for event, choice in sorted(choices.items())
        ],
        update_conflicts=True,
        unique_fields=["user", "event"],
        update_fields=["email", "sms", "updated_at"],
    )
