"""The notification events, registered by the apps that raise them.

notifications/ knows no domain: each app declares its events (name, label, who may receive
them, default channels) in its own module and registers them when Django starts. A new event
is its declaration and the ``notify`` call that raises it; no notifications migration.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.utils.functional import Promise

from organisations.roles import Role

if TYPE_CHECKING:
    from notifications.models import Notification

_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")  # fits Notification.event (max_length=40)


@dataclass(frozen=True)
class Attachment:
    """A file an event's e-mail carries (e.g. a receipt's PDF)."""

    filename: str
    content: bytes
    mimetype: str


# Made when each e-mail is sent (and again on each retry), from the notification's own rows;
# an error raised here fails that delivery, which is then retried like any other failure.
AttachmentsFor = Callable[["Notification"], list[Attachment]]


class NotificationEvent(str):
    """An event's name (the string stored on each notification) with what it means.

    A ``str`` so that it can be passed, compared and filtered on wherever a name is expected.
    """

    label: str | Promise
    audience: frozenset[Role]
    email: bool
    sms: bool
    attachments: AttachmentsFor | None

    def __new__(
        cls,
        name: str,
        *,
        label: str | Promise,
        audience: Iterable[Role],
        email: bool = True,
        sms: bool = False,
        attachments: AttachmentsFor | None = None,
    ) -> NotificationEvent:
        if not _NAME.match(name):
            raise ValueError(f"Event name {name!r}: lowercase letters, digits and _, at most 40.")
        event = super().__new__(cls, name)
        event.label = label
        event.audience = frozenset(audience)
        if not event.audience:
            raise ValueError(f"Event {name!r} names nobody who may receive it.")
        event.email = email
        event.sms = sms
        event.attachments = attachments
        return event

    @property
    def name(self) -> str:
        return str.__str__(self)

    def __reduce__(self) -> tuple[object, tuple[str]]:
        # Pickled (Celery, caches) as its name; unpickled as the registered event.
        return get, (self.name,)


_events: dict[str, NotificationEvent] = {}


def register(event: NotificationEvent) -> NotificationEvent:
    """Add ``event`` to the registry (again is harmless); a second, different one is refused."""
    known = _events.get(event.name)
    if known is not None and (known.label, known.audience) != (event.label, event.audience):
        raise ValueError(f"Another event is already registered as {event.name!r}.")
    _events.setdefault(event.name, event)
    return _events[event.name]


def unregister(name: str) -> None:
    """Remove an event (for tests that register one of their own)."""
    _events.pop(name, None)


def registered() -> list[NotificationEvent]:
    """Every event, in the order the apps registered them."""
    return list(_events.values())


def get(name: str) -> NotificationEvent:
    try:
        return _events[name]
    except KeyError:
        raise LookupError(f"No notification event is registered as {name!r}.") from None


def attachments_of(notification: Notification) -> list[Attachment]:
    """The files the notification's e-mail carries (none unless its event makes some)."""
    event = _events.get(notification.event)
    if event is None or event.attachments is None:
        return []
    return event.attachments(notification)


def label_of(name: str) -> str:
    """The event's label, or its name if no app registers it any more (old notifications)."""
    event = _events.get(name)
    return str(event.label) if event is not None else name


def receivable_by(roles: Iterable[Role]) -> list[NotificationEvent]:
    """The events someone with these roles may receive, in registration order."""
    held = frozenset(roles)
    return [event for event in _events.values() if event.audience & held]
