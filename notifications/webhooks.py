"""Signed webhooks: organisations' systems hear about clearance and registration events.

A delivery row is written by ``emit`` inside the caller's transaction and sent after commit by
a Celery task. Each attempt claims the row for a lease and commits before the POST, and
records the outcome afterwards (``notifications.claims``): no socket is opened while a row
lock or a transaction is held, and a sender that dies mid-send leaves a claim the sweep takes
again once its lease has passed, so delivery is at least once. A failed attempt sets
``next_attempt_at`` with exponential backoff (1, 2, 4 … minutes, capped at an hour, at most
``MAX_ATTEMPTS`` attempts) and the periodic sweep (``deliver_due``) re-sends whatever is due,
so a broker outage only delays a delivery.
Redirects are never followed, only http(s) URLs are accepted, and a subscription whose last
``PAUSE_AFTER_FAILURES`` attempts all failed is paused and its organisation's admins are told.
Targets on private, loopback, link-local or otherwise non-public addresses are refused, both
when subscribing (``validate_target_url``) and on every connection (the address actually
connected to is checked, so a name that later resolves inward is refused too), unless
``settings.WEBHOOK_ALLOW_PRIVATE_TARGETS`` is on (development, and tests' loopback receivers).

Every request carries three headers::

    Talaan-Event: clearance.decided
    Talaan-Delivery: 42
    Talaan-Signature: t=1767225600,v1=<hex HMAC-SHA256 of "{t}.{raw body}" with the secret>

Receivers must recompute the HMAC over the raw body, compare it in constant time, and reject
the request when ``|now - t| > 300`` seconds (``REPLAY_WINDOW_SECONDS``): a captured request
cannot then be replayed later. The ``Talaan-Delivery`` id is stable across retries of one
delivery, so receivers can also drop duplicates by it; it is signed as the body's ``id``
(the header is a copy), so the signed string stays ``"{t}.{raw body}"``. See docs/webhooks.md.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import ipaddress
import json
import logging
import secrets
import socket
import urllib.error
import urllib.request
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import F, QuerySet
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kernel.auth import AnyUser
from kernel.i18n import Message
from notifications import claims
from notifications.events import NotificationEvent, register
from notifications.models import WebhookDelivery, WebhookEvent, WebhookSubscription
from notifications.queueing import queue_or_log
from notifications.services import notify
from organisations.access import Action, Caller, own_organisations_allowing
from organisations.models import Membership, Organisation
from organisations.roles import Role

if TYPE_CHECKING:
    import ssl

    from django.contrib.auth.models import User

logger = logging.getLogger(__name__)

WEBHOOK_PAUSED = register(
    NotificationEvent(
        "webhook_paused", label=_("Webhook subscription paused"), audience={Role.ADMIN}
    )
)

REPLAY_WINDOW_SECONDS = 300
MAX_ATTEMPTS = 8
BACKOFF_FIRST = timedelta(minutes=1)
BACKOFF_CAP = timedelta(hours=1)
PAUSE_AFTER_FAILURES = 10
TIMEOUT_SECONDS = 10
SWEEP_BATCH = 200
USER_AGENT = "Talaan-Webhooks/1"


# Signing ---------------------------------------------------------------------------------


def sign(*, secret: str, timestamp: int, body: bytes) -> str:
    """The hex HMAC-SHA256 of ``"{timestamp}.{body}"`` under the subscription's secret."""
    message = f"{timestamp}.".encode() + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_header(*, secret: str, timestamp: int, body: bytes) -> str:
    return f"t={timestamp},v1={sign(secret=secret, timestamp=timestamp, body=body)}"


def backoff(attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failed attempt: 1, 2, 4 … minutes, capped."""
    return min(BACKOFF_FIRST * 2 ** max(attempts - 1, 0), BACKOFF_CAP)


# Reads and access ------------------------------------------------------------------------


def webhook_organisations_for_user(user: AnyUser) -> QuerySet[Organisation]:
    """Organisations whose webhooks the user manages: those they administer, and the LTO's
    for LTO staff."""
    ids = own_organisations_allowing(Caller(user), Action.MANAGE_WEBHOOKS)
    return Organisation.objects.filter(pk__in=ids, is_active=True).order_by("name")


def webhook_subscriptions_for_user(user: AnyUser) -> QuerySet[WebhookSubscription]:
    return WebhookSubscription.objects.filter(
        organisation__in=webhook_organisations_for_user(user)
    ).select_related("organisation")


def webhook_subscription_get_for_user(*, user: AnyUser, pk: int) -> WebhookSubscription:
    """The access funnel: 404 unless the user manages the subscription's organisation."""
    subscription = webhook_subscriptions_for_user(user).filter(pk=pk).first()
    if subscription is None:
        raise Http404(_("No such webhook subscription."))
    return subscription


def webhook_deliveries_of(subscription: WebhookSubscription) -> QuerySet[WebhookDelivery]:
    return subscription.deliveries.order_by("-created_at", "-id")


# Targets ---------------------------------------------------------------------------------


class TargetRefused(OSError):
    """A webhook target resolves to an address Talaan must not send to."""


IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def _is_public(address: IpAddress) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not (
        address.is_multicast or address.is_reserved or address.is_unspecified
    )


def _private_targets_allowed() -> bool:
    return bool(getattr(settings, "WEBHOOK_ALLOW_PRIVATE_TARGETS", False))


def _refusal(host: str, address: IpAddress) -> str:
    return (
        f"{host} resolves to {address}, a private, loopback, link-local or otherwise internal "
        "address; webhooks are sent only to public addresses."
    )


def _resolve(host: str, port: int) -> list[tuple[Any, ...]]:
    return socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)


def validate_target_url(url: str) -> None:
    """Refuse URLs that cannot or must not receive webhooks, with a message for people.

    One validator for the browser form and the API (through ``subscribe``): http(s) only,
    and no host that is, or resolves to, a non-public address. A name that does not resolve
    yet is accepted: every delivery checks the address it actually connects to.
    """
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ValidationError({"url": _("Only http and https URLs can receive webhooks.")})
    if _private_targets_allowed():
        return
    host = parts.hostname
    if host == "localhost" or host.endswith(".localhost"):
        raise ValidationError(
            {
                "url": Message(
                    _("%(host)s is this machine; webhooks are sent only to public addresses."),
                    {"host": host},
                )
            }
        )
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise ValidationError(
            {"url": _("The URL's port is not a number from 0 to 65535.")}
        ) from None
    try:
        found = _resolve(host, port)
    except (OSError, UnicodeError, ValueError):
        return
    for *_rest, sockaddr in found:
        address = ipaddress.ip_address(sockaddr[0])
        if not _is_public(address):
            raise ValidationError({"url": _refusal(host, address)})


def _create_public_connection(
    address: tuple[str, int], timeout: Any = None, source_address: Any = None
) -> socket.socket:
    """socket.create_connection, refusing any non-public address the name resolves to."""
    host, port = address
    found = _resolve(host, port)
    if not _private_targets_allowed():
        for *_rest, sockaddr in found:
            resolved = ipaddress.ip_address(sockaddr[0])
            if not _is_public(resolved):
                raise TargetRefused(_refusal(host, resolved))
    error: OSError | None = None
    for family, kind, proto, _canonname, sockaddr in found:
        sock = socket.socket(family, kind, proto)
        try:
            if timeout is not None:
                sock.settimeout(timeout)
            if source_address:
                sock.bind(source_address)
            sock.connect(sockaddr)
            return sock
        except OSError as exc:
            sock.close()
            error = exc
    raise error or OSError(f"{host} did not resolve to any address.")


class _PublicHTTPConnection(http.client.HTTPConnection):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._create_connection = _create_public_connection


class _PublicHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._create_connection = _create_public_connection


class _PublicHTTPHandler(urllib.request.HTTPHandler):
    def http_open(self, req: urllib.request.Request) -> Any:
        return self.do_open(_PublicHTTPConnection, req)


class _PublicHTTPSHandler(urllib.request.HTTPSHandler):
    _context: ssl.SSLContext | None  # set by HTTPSHandler.__init__

    def https_open(self, req: urllib.request.Request) -> Any:
        return self.do_open(_PublicHTTPSConnection, req, context=self._context)


# Subscriptions ---------------------------------------------------------------------------


def _validate(*, url: str, events: Iterable[str]) -> list[str]:
    validate_target_url(url)
    chosen = sorted(set(events))
    unknown = set(chosen) - set(WebhookEvent.values)
    if not chosen or unknown:
        raise ValidationError({"events": _("Choose one or more known events.")})
    return chosen


@transaction.atomic(durable=True)
def subscribe(
    *, user: User, organisation_id: int, url: str, events: Iterable[str]
) -> tuple[WebhookSubscription, str]:
    """Subscribe an organisation's URL to events; returns it and its secret, to show once."""
    organisation = webhook_organisations_for_user(user).filter(pk=organisation_id).first()
    if organisation is None:
        raise Http404(_("No such organisation."))
    secret = f"whsec_{secrets.token_urlsafe(32)}"
    subscription = WebhookSubscription.objects.create(
        organisation=organisation,
        url=url,
        events=_validate(url=url, events=events),
        secret=secret,
        created_by=user,
    )
    logger.info("Webhook subscription %s created for %s.", subscription.pk, organisation.code)
    return subscription, secret


@transaction.atomic(durable=True)
def unsubscribe(*, user: User, subscription_id: int) -> None:
    """Delete a subscription and its delivery log."""
    webhook_subscription_get_for_user(user=user, pk=subscription_id).delete()


@transaction.atomic(durable=True)
def subscription_pause(*, user: User, subscription_id: int) -> WebhookSubscription:
    """Stop sending; deliveries stay pending and are sent once the subscription resumes."""
    subscription = webhook_subscription_get_for_user(user=user, pk=subscription_id)
    if subscription.is_active:
        subscription.is_active = False
        subscription.paused_at = timezone.now()
        subscription.save(update_fields=["is_active", "paused_at", "updated_at"])
    return subscription


@transaction.atomic(durable=True)
def subscription_resume(*, user: User, subscription_id: int) -> WebhookSubscription:
    """Send again, starting from a clean failure count."""
    subscription = webhook_subscription_get_for_user(user=user, pk=subscription_id)
    if not subscription.is_active:
        subscription.is_active = True
        subscription.paused_at = None
        subscription.consecutive_failures = 0
        subscription.save(
            update_fields=["is_active", "paused_at", "consecutive_failures", "updated_at"]
        )
    return subscription


# Emitting and sending --------------------------------------------------------------------


def emit(
    *, event: WebhookEvent | str, organisation_ids: Iterable[int], payload: Mapping[str, Any]
) -> list[WebhookDelivery]:
    """Write a delivery for each active subscription of these organisations to the event,
    inside the caller's transaction; they are sent after it commits."""
    event = WebhookEvent(event)
    # Filtered in Python: a JSON "contains" lookup is not available on SQLite (make run), and an
    # organisation has a handful of subscriptions at most.
    subscriptions = [
        subscription
        for subscription in WebhookSubscription.objects.filter(
            organisation_id__in=set(organisation_ids), is_active=True
        ).order_by("pk")
        if event.value in subscription.events
    ]
    now = timezone.now()
    # Round-trip through JSON now so the stored payload is exactly what will be sent.
    data = json.loads(json.dumps(dict(payload), cls=DjangoJSONEncoder))
    deliveries = WebhookDelivery.objects.bulk_create(
        WebhookDelivery(subscription=s, event=event, payload=data, next_attempt_at=now)
        for s in subscriptions
    )
    if deliveries:
        transaction.on_commit(partial(enqueue, [delivery.pk for delivery in deliveries]))
    return deliveries


def enqueue(delivery_ids: list[int]) -> None:
    """Hand deliveries to Celery; if the broker is down, the periodic sweep sends them."""
    queue_or_log(
        "notifications.tasks.deliver_webhooks",
        delivery_ids,
        failure=f"Could not queue webhook deliveries {delivery_ids}; the sweep will send them.",
    )


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    # A redirect could carry a signed event to a host the organisation never chose.
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def _post(*, url: str, body: bytes, headers: dict[str, str]) -> int:
    """POST and return the status code; HTTPError for 3xx-5xx, OSError when unreachable."""
    if urlsplit(url).scheme not in {"http", "https"}:
        raise ValueError("Only http and https URLs can receive webhooks.")
    # Direct connections only: no proxy from the environment sees signed payloads. The
    # handlers check the address each connection goes to.
    opener = urllib.request.build_opener(
        urllib.request.ProxyHandler({}), _NoRedirects, _PublicHTTPHandler, _PublicHTTPSHandler
    )
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    with opener.open(request, timeout=TIMEOUT_SECONDS) as response:
        return int(response.status)


def _body(delivery: WebhookDelivery) -> bytes:
    envelope = {
        "id": delivery.pk,
        "event": delivery.event,
        "created_at": delivery.created_at.isoformat(),
        "data": delivery.payload,
    }
    return json.dumps(envelope, separators=(",", ":"), sort_keys=True).encode()


def deliver(*, delivery_id: int, now: datetime | None = None) -> bool:
    """Attempt one due delivery and record the outcome. Returns False when it failed.

    ``now`` is the clock for the signature timestamp, the claim's lease and the backoff (the
    sweep and tests pass it; it defaults to the current time). Deliveries not yet due, already
    final, claimed by another sender whose lease still runs, or of a paused subscription are
    left alone. Claim, commit, then send (``notifications.claims``): the POST runs with no
    transaction open and no row locked.
    """
    now = now or timezone.now()
    token = claims.new_token()
    claimed = _claim(delivery_id=delivery_id, now=now, token=token)
    if claimed is None:
        return True
    delivery, body, headers = claimed
    code: int | None = None
    error = ""
    try:
        code = _post(url=delivery.subscription.url, body=body, headers=headers)
    except urllib.error.HTTPError as exc:
        code, error = exc.code, f"HTTP {exc.code} {exc.reason}"
        exc.close()
    except (OSError, ValueError) as exc:  # unreachable, refused, timed out, bad URL
        error = f"{type(exc).__name__}: {exc}"
    return _record(delivery=delivery, token=token, code=code, error=error, now=now)


@transaction.atomic(durable=True)
def _claim(
    *, delivery_id: int, now: datetime, token: str
) -> tuple[WebhookDelivery, bytes, dict[str, str]] | None:
    """Claim a due delivery for one lease, count the attempt, and commit; with the request
    to send (the same ``Talaan-Delivery`` id on every attempt)."""
    # Lock only the delivery row, and only for this short transaction, skipping one a
    # concurrent claimer holds; the subscription row is updated with F() so deliveries of one
    # subscription never wait on each other.
    delivery = (
        WebhookDelivery.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("subscription__organisation")
        .filter(
            claims.unclaimed(now),
            pk=delivery_id,
            status=WebhookDelivery.Status.PENDING,
            next_attempt_at__lte=now,
            subscription__is_active=True,
        )
        .first()
    )
    if delivery is None:
        return None
    # Signed with the time it is sent: a sweep's ``now`` falls behind while it works through
    # slow receivers, and a receiver refuses a timestamp more than 300 s old.
    sent_at = max(now, timezone.now())
    timestamp = int(sent_at.timestamp())
    body = _body(delivery)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "Talaan-Event": delivery.event,
        "Talaan-Delivery": str(delivery.pk),
        "Talaan-Signature": signature_header(
            secret=delivery.subscription.secret, timestamp=timestamp, body=body
        ),
    }
    delivery.attempts += 1
    # The lease runs from the real clock when the sweep's ``now`` has fallen behind it (a long
    # sweep), so that a claim taken late in the sweep still keeps others away for a full lease.
    delivery.claimed_until = sent_at + claims.lease()
    delivery.claimed_by = token
    delivery.save(update_fields=["attempts", "claimed_until", "claimed_by", "updated_at"])
    return delivery, body, headers


@transaction.atomic(durable=True)
def _record(
    *, delivery: WebhookDelivery, token: str, code: int | None, error: str, now: datetime
) -> bool:
    """Record one attempt's outcome and release the claim, in a short transaction of its own.

    Returns whether the attempt succeeded."""
    ok = code is not None and 200 <= code < 300
    delivery.last_status_code = code
    delivery.last_error = error[:2000]
    delivery.claimed_until = None
    delivery.claimed_by = ""
    if ok:
        delivery.status = WebhookDelivery.Status.SENT
        delivery.delivered_at = now
        delivery.next_attempt_at = None
    elif delivery.attempts >= MAX_ATTEMPTS:
        delivery.status = WebhookDelivery.Status.FAILED
        delivery.next_attempt_at = None
    else:
        delivery.next_attempt_at = now + backoff(delivery.attempts)
    outcome = {
        name: getattr(delivery, name)
        for name in (
            "status",
            "last_status_code",
            "last_error",
            "next_attempt_at",
            "delivered_at",
            "claimed_until",
            "claimed_by",
        )
    }
    outcome["updated_at"] = timezone.now()
    changed = WebhookDelivery.objects.filter(pk=delivery.pk, claimed_by=token).update(**outcome)
    if not changed and ok:
        # This sender's lease lapsed and another one claimed the row; the receiver has the
        # event all the same, and marking it sent stops any further resend.
        changed = WebhookDelivery.objects.filter(
            pk=delivery.pk, status=WebhookDelivery.Status.PENDING
        ).update(**outcome)
    if not changed:
        logger.warning(
            "Webhook delivery %s: the claim lapsed before attempt %s was recorded; the outcome "
            "of a later claim stands.",
            delivery.pk,
            delivery.attempts,
        )
        return ok
    logger.info(
        "Webhook delivery %s (%s) attempt %s to subscription %s: %s, status code %s.",
        delivery.pk,
        delivery.event,
        delivery.attempts,
        delivery.subscription_id,
        delivery.status,
        code,
    )
    _record_outcome(subscription=delivery.subscription, ok=ok, now=now)
    return ok


def _record_outcome(*, subscription: WebhookSubscription, ok: bool, now: datetime) -> None:
    subscriptions = WebhookSubscription.objects.filter(pk=subscription.pk)
    if ok:
        subscriptions.filter(consecutive_failures__gt=0).update(consecutive_failures=0)
        return
    subscriptions.update(consecutive_failures=F("consecutive_failures") + 1, updated_at=now)
    # The conditional update makes exactly one concurrent failure the one that pauses.
    paused = subscriptions.filter(
        is_active=True, consecutive_failures__gte=PAUSE_AFTER_FAILURES
    ).update(is_active=False, paused_at=now, updated_at=now)
    if paused:
        _tell_admins_paused(subscription)


def _tell_admins_paused(subscription: WebhookSubscription) -> None:
    admins = get_user_model().objects.filter(
        is_active=True,
        memberships__organisation_id=subscription.organisation_id,
        memberships__role=Membership.Role.ADMIN,
        memberships__is_active=True,
    )
    logger.warning("Webhook subscription %s paused after repeated failures.", subscription.pk)
    notify(
        recipients=admins,
        event=WEBHOOK_PAUSED,
        title=pgettext_lazy("sms", "Webhook subscription paused"),
        body=Message(
            _(
                "Deliveries to %(url)s failed %(count)s times in a row, so Talaan stopped "
                "sending them. Fix the receiver, then resume the subscription: pending "
                "deliveries are sent again."
            ),
            {"url": subscription.url, "count": PAUSE_AFTER_FAILURES},
        ),
        link=reverse("notifications:webhook-detail", args=[subscription.pk]),
    )


def deliver_many(*, delivery_ids: Iterable[int], now: datetime | None = None) -> int:
    """Attempt each delivery; returns how many failed."""
    return sum(not deliver(delivery_id=pk, now=now) for pk in sorted(delivery_ids))


def deliver_due(*, now: datetime | None = None) -> int:
    """The sweep: attempt every pending delivery that is due, oldest due first; one whose
    sender died holding its claim is due again once the claim's lease has passed."""
    now = now or timezone.now()
    ids = list(
        WebhookDelivery.objects.filter(
            claims.unclaimed(now),
            status=WebhookDelivery.Status.PENDING,
            next_attempt_at__lte=now,
            subscription__is_active=True,
        )
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:SWEEP_BATCH]
    )
    deliver_many(delivery_ids=ids, now=now)
    return len(ids)
