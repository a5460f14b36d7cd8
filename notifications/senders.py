"""Turn a notification into an email or a text message and hand it to the transport."""

from __future__ import annotations

from urllib.parse import urljoin

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import select_template
from django.urls import reverse
from django.utils import translation

from kernel.i18n import user_language
from notifications.events import attachments_of
from notifications.models import Notification
from notifications.sms import send_sms

# Two concatenated SMS segments; longer texts cost more and arrive split on old phones.
SMS_MAX_LENGTH = 306


def absolute_url(path: str) -> str:
    """An address people can open from their mail or phone: links are stored as paths."""
    if not path:
        return ""
    return urljoin(settings.NOTIFICATIONS_SITE_URL.rstrip("/") + "/", path)


def _templates(event: str, extension: str) -> list[str]:
    # A per-event template wins; the generic pair covers every other event.
    return [
        f"notifications/email/{event}.{extension}",
        f"notifications/email/notification.{extension}",
    ]


def send_email(notification: Notification, address: str) -> None:
    """Send the notification as a multipart (text and HTML) email to ``address``, in the
    recipient's language (not that of whoever caused it), attachments included."""
    with translation.override(user_language(notification.recipient)):
        _send_email(notification, address)


def _send_email(notification: Notification, address: str) -> None:
    context = {
        "notification": notification,
        "recipient": notification.recipient,
        "url": absolute_url(notification.link),
        "preferences_url": absolute_url(reverse("notifications:preferences")),
    }
    text = select_template(_templates(notification.event, "txt")).render(context)
    html = select_template(_templates(notification.event, "html")).render(context)
    subject_template = select_template(
        [
            f"notifications/email/{notification.event}_subject.txt",
            "notifications/email/notification_subject.txt",
        ]
    )
    subject = " ".join(subject_template.render(context).split())
    message = EmailMultiAlternatives(subject=subject, body=text, to=[address])
    message.attach_alternative(html, "text/html")
    for attachment in attachments_of(notification):
        message.attach(attachment.filename, attachment.content, attachment.mimetype)
    message.send()


def send_text_message(notification: Notification, number: str) -> None:
    """Send the title and the link (never the body, which may be long) by SMS. The title was
    written in the recipient's language when the notification was; amounts in it are "PHP",
    never "₱" (see kernel.i18n.pesos_for_sms)."""
    url = absolute_url(notification.link)
    room = SMS_MAX_LENGTH - len(url) - 1 if url else SMS_MAX_LENGTH
    title = notification.title
    if len(title) > room:
        # Three dots, not "…": that one is outside GSM-7 and would make the text UCS-2.
        title = title[: max(room - 3, 0)] + "..."
    send_sms(to=number, text=f"{title} {url}".strip())
