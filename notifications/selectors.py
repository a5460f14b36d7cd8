"""Reads of notifications and preferences; every one is scoped to one user."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, NamedTuple

from django.db.models import Count, QuerySet
from django.http import Http404
from django.utils.translation import gettext_lazy as _

from kernel.auth import AnyUser
from notifications import events
from notifications.addresses import mobile_numbers
from notifications.models import Delivery, Notification, NotificationPreference
from organisations.roles import roles_of

if TYPE_CHECKING:
    from django.contrib.auth.models import User


class ChannelChoice(NamedTuple):
    """The channels one person wants for one event, besides in-app (always on)."""

    email: bool
    sms: bool

    @classmethod
    def default_for(cls, event: str) -> ChannelChoice:
        """What the app that registered the event chose for people who never chose."""
        declared = events.get(event)
        return cls(email=declared.email, sms=declared.sms)


def notifications_for_user(user: AnyUser) -> QuerySet[Notification]:
    if not user.is_authenticated:
        return Notification.objects.none()
    return Notification.objects.filter(recipient=user)


def notification_get_for_user(*, user: AnyUser, pk: int) -> Notification:
    """The one way to fetch a notification for a user: 404 unless it is addressed to them."""
    try:
        return notifications_for_user(user).get(pk=pk)
    except Notification.DoesNotExist:
        raise Http404(_("No such notification.")) from None


def unread_count(user: AnyUser) -> int:
    return notifications_for_user(user).filter(read_at__isnull=True).count()


def unread_counts(user_ids: Iterable[int]) -> dict[int, int]:
    """Unread notifications per user, in one query; users with none are absent."""
    return dict(
        Notification.objects.filter(recipient_id__in=list(user_ids), read_at__isnull=True)
        .order_by()
        .values("recipient_id")
        .annotate(n=Count("pk"))
        .values_list("recipient_id", "n")
    )


def events_for(user: AnyUser) -> list[events.NotificationEvent]:
    """The events this person may receive, given what they are (owner, LTO, officer, admin)."""
    return events.receivable_by(roles_of(user))


def preferences_for(user: User) -> dict[str, ChannelChoice]:
    """Each event the user may receive, with their choice, or the event's default where they
    never chose."""
    saved = {
        row.event: ChannelChoice(email=row.email, sms=row.sms)
        for row in NotificationPreference.objects.filter(user=user)
    }
    return {
        event.name: saved[event.name]
        if event.name in saved
        else ChannelChoice.default_for(event.name)
        for event in events_for(user)
    }


def channels_wanted(*, users: Iterable[User], event: str) -> dict[int, list[Delivery.Channel]]:
    """For each user, the delivery channels to use for ``event``: what they chose, where
    there is an address to send to (an email address; a mobile number)."""
    users = list(users)
    saved = {
        row.user_id: ChannelChoice(email=row.email, sms=row.sms)
        for row in NotificationPreference.objects.filter(
            user_id__in=[user.pk for user in users], event=event
        )
    }
    default = ChannelChoice.default_for(event)
    choices = {user.pk: saved.get(user.pk, default) for user in users}
    sms_wanted = [pk for pk, choice in choices.items() if choice.sms]
    with_mobile = set(mobile_numbers(sms_wanted)) if sms_wanted else set()
    wanted: dict[int, list[Delivery.Channel]] = {}
    for user in users:
        choice = choices[user.pk]
        channels = []
        if choice.email and user.email:
            channels.append(Delivery.Channel.EMAIL)
        if choice.sms and user.pk in with_mobile:
            channels.append(Delivery.Channel.SMS)
        wanted[user.pk] = channels
    return wanted


def mobile_number_of(user_id: int) -> str:
    """The user's mobile number, if the app that keeps numbers has one for them."""
    return mobile_numbers([user_id]).get(user_id, "").strip()
