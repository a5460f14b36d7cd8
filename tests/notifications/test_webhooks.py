"""Signed webhooks: delivery, signature, backoff, pausing, and the org admins' pages.

The receivers here are ``http.server`` instances on loopback started by the tests: stand-ins
for an integrator's endpoint, so nothing leaves the machine.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from notifications import webhooks
from notifications.models import (
    Notification,
    WebhookDelivery,
    WebhookEvent,
    WebhookSubscription,
)
from notifications.webhooks import WEBHOOK_PAUSED

PAYLOAD = {
    "clearance_request_id": 7,
    "application_id": 3,
    "reference": "APP-2026-000003",
    "kind": "HPG",
    "status": "requested",
    "ledger_tx_id": "tx-abc",
}


@dataclass
class Receiver:
    """A loopback HTTP endpoint that records each request and answers with ``status``."""

    url: str
    status: int = 204
    location: str = ""
    requests: list[dict] = field(default_factory=list)


@pytest.fixture
def receiver(settings) -> Iterator[Receiver]:
    # The receiver listens on loopback, which webhooks refuse unless this is on.
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    state = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            state.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
            self.send_response(state.status)
            if state.location:
                self.send_header("Location", state.location)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:  # keep test output quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_port}/hooks/talaan"
    yield state
    server.shutdown()
    server.server_close()


def subscribe(world, receiver, events=(WebhookEvent.CLEARANCE_REQUESTED,)):
    return webhooks.subscribe(
        user=world.hpg_admin, organisation_id=world.hpg.pk, url=receiver.url, events=events
    )


def emit_committed(capture, organisation_ids, event=WebhookEvent.CLEARANCE_REQUESTED):
    """Emit as a service does, inside its transaction, and run what it queues on commit."""
    with capture(execute=True), transaction.atomic():
        return webhooks.emit(event=event, organisation_ids=organisation_ids, payload=PAYLOAD)


def verify_as_a_receiver_would(secret: str, headers: dict, body: bytes) -> dict:
    parts = dict(item.split("=", 1) for item in headers["Talaan-Signature"].split(","))
    timestamp = int(parts["t"])
    expected = hmac.new(
        secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256
    ).hexdigest()
    assert hmac.compare_digest(expected, parts["v1"])
    assert abs(time.time() - timestamp) <= webhooks.REPLAY_WINDOW_SECONDS
    return json.loads(body)


def test_a_subscribed_receiver_gets_a_correctly_signed_delivery(
    world, receiver, eager_celery, django_capture_on_commit_callbacks, caplog
):
    caplog.set_level("DEBUG")
    _, secret = subscribe(world, receiver)

    [delivery] = emit_committed(django_capture_on_commit_callbacks, [world.hpg.pk])

    [request] = receiver.requests
    headers = request["headers"]
    body = verify_as_a_receiver_would(secret, headers, request["body"])
    assert headers["Talaan-Event"] == "clearance.requested"
    assert headers["Talaan-Delivery"] == str(delivery.pk)
    assert body["id"] == delivery.pk
    assert body["event"] == "clearance.requested"
    assert body["data"] == PAYLOAD
    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.SENT
    assert (delivery.attempts, delivery.last_status_code) == (1, 204)
    assert delivery.delivered_at is not None
    assert secret not in caplog.text


def test_a_tampered_body_does_not_verify(world, receiver):
    _, secret = subscribe(world, receiver)
    header = webhooks.signature_header(secret=secret, timestamp=1_700_000_000, body=b'{"a":1}')

    forged = webhooks.sign(secret=secret, timestamp=1_700_000_000, body=b'{"a":2}')

    assert not header.endswith(forged)


def test_emit_skips_other_events_other_organisations_and_paused_subscriptions(
    world, receiver, django_capture_on_commit_callbacks
):
    subscription, _ = subscribe(world, receiver, events=[WebhookEvent.CLEARANCE_DECIDED])
    subscribe(world, receiver, events=[WebhookEvent.CLEARANCE_REQUESTED])
    WebhookSubscription.objects.create(
        organisation=world.insurer, url=receiver.url, events=["clearance.requested"], secret="s"
    )
    webhooks.subscription_pause(user=world.hpg_admin, subscription_id=subscription.pk)

    deliveries = emit_committed(django_capture_on_commit_callbacks, [world.hpg.pk])

    assert [d.subscription.organisation_id for d in deliveries] == [world.hpg.pk]
    assert [d.event for d in deliveries] == ["clearance.requested"]


def test_a_failing_receiver_sees_retries_with_growing_backoff(
    world, receiver, eager_celery, django_capture_on_commit_callbacks
):
    # The sweep is driven with an explicit ``now`` rather than by patching timezone.now: the
    # service takes its clock as an argument, so the test moves only the delivery's clock and
    # the auto_now timestamps and the database stay real.
    receiver.status = 500
    subscribe(world, receiver)
    [delivery] = emit_committed(django_capture_on_commit_callbacks, [world.hpg.pk])
    delivery.refresh_from_db()
    assert (delivery.attempts, delivery.last_status_code) == (1, 500)

    attempted_at = delivery.updated_at  # the first attempt ran on the real clock
    waits = []
    for attempt in range(2, 6):
        due = delivery.next_attempt_at
        waits.append(due - attempted_at)
        assert webhooks.deliver_due(now=due - timedelta(seconds=1)) == 0
        assert len(receiver.requests) == attempt - 1
        webhooks.deliver_due(now=due)
        delivery.refresh_from_db()
        assert len(receiver.requests) == attempt
        assert delivery.attempts == attempt
        assert delivery.last_status_code == 500
        assert delivery.status == WebhookDelivery.Status.PENDING
        attempted_at = due

    assert [round(w.total_seconds() / 60) for w in waits] == [1, 2, 4, 8]
    assert delivery.next_attempt_at - attempted_at == timedelta(minutes=16)


def test_a_delivery_gives_up_after_the_last_attempt(world, receiver):
    receiver.status = 503
    subscribe(world, receiver)
    with transaction.atomic():
        [delivery] = webhooks.emit(
            event=WebhookEvent.CLEARANCE_REQUESTED, organisation_ids=[world.hpg.pk], payload={}
        )
    now = timezone.now()

    for step in range(webhooks.MAX_ATTEMPTS + 2):
        webhooks.deliver_due(now=now + step * webhooks.BACKOFF_CAP)

    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.FAILED
    assert delivery.attempts == webhooks.MAX_ATTEMPTS
    assert delivery.next_attempt_at is None
    assert len(receiver.requests) == webhooks.MAX_ATTEMPTS


def test_redirects_are_not_followed(world, receiver):
    receiver.status, receiver.location = 302, "/elsewhere"
    subscribe(world, receiver)
    with transaction.atomic():
        [delivery] = webhooks.emit(
            event=WebhookEvent.CLEARANCE_REQUESTED, organisation_ids=[world.hpg.pk], payload={}
        )

    assert webhooks.deliver(delivery_id=delivery.pk) is False

    delivery.refresh_from_db()
    assert [r["path"] for r in receiver.requests] == ["/hooks/talaan"]
    assert delivery.last_status_code == 302


@pytest.mark.parametrize("url", ["ftp://example.org/x", "file:///etc/passwd", "javascript:x"])
def test_only_http_urls_can_subscribe(world, url):
    with pytest.raises(ValidationError):
        webhooks.subscribe(
            user=world.hpg_admin,
            organisation_id=world.hpg.pk,
            url=url,
            events=["clearance.requested"],
        )


def test_a_subscription_that_keeps_failing_is_paused_and_its_admins_told(world, receiver):
    receiver.status = 500
    subscription, _ = subscribe(world, receiver)
    with transaction.atomic():
        for _ in range(2):
            webhooks.emit(
                event=WebhookEvent.CLEARANCE_REQUESTED, organisation_ids=[world.hpg.pk], payload={}
            )
    now = timezone.now()

    step = 0
    while WebhookSubscription.objects.get(pk=subscription.pk).is_active:
        webhooks.deliver_due(now=now + step * webhooks.BACKOFF_CAP)
        step += 1
        assert step < 20

    assert len(receiver.requests) == webhooks.PAUSE_AFTER_FAILURES
    subscription.refresh_from_db()
    assert subscription.paused_at is not None
    told = Notification.objects.filter(event=WEBHOOK_PAUSED)
    assert [n.recipient for n in told] == [world.hpg_admin]
    assert told[0].link == f"/notifications/webhooks/{subscription.pk}/"
    # Paused: the sweep sends nothing more; resumed, the pending deliveries go out again.
    webhooks.deliver_due(now=now + 30 * webhooks.BACKOFF_CAP)
    assert len(receiver.requests) == webhooks.PAUSE_AFTER_FAILURES
    receiver.status = 200
    webhooks.subscription_resume(user=world.hpg_admin, subscription_id=subscription.pk)
    webhooks.deliver_due(now=now + 30 * webhooks.BACKOFF_CAP)
    assert set(subscription.deliveries.values_list("status", flat=True)) == {"sent"}


# Pages -----------------------------------------------------------------------------------


@pytest.fixture
def subscriptions(world):
    def make(organisation):
        return WebhookSubscription.objects.create(
            organisation=organisation,
            url=f"https://{organisation.code}.example/hooks",
            events=["clearance.requested"],
            secret="whsec_x",
        )

    return {"hpg": make(world.hpg), "insurer": make(world.insurer), "lto": make(world.lto)}


def test_an_org_admin_sees_only_their_organisations_subscriptions(world, client, subscriptions):
    client.force_login(world.hpg_admin)

    response = client.get("/notifications/webhooks/")

    assert response.status_code == 200
    assert list(response.context["subscriptions"]) == [subscriptions["hpg"]]
    assert "insurer.example" not in response.content.decode()


@pytest.mark.parametrize(
    ("user", "mine", "theirs"),
    [("hpg_admin", "hpg", "insurer"), ("hpg_admin", "hpg", "lto"), ("lto_admin", "lto", "hpg")],
)
def test_another_organisations_subscription_is_not_found(
    world, client, subscriptions, user, mine, theirs
):
    client.force_login(getattr(world, user))
    other = subscriptions[theirs]

    assert client.get(f"/notifications/webhooks/{subscriptions[mine].pk}/").status_code == 200
    assert client.get(f"/notifications/webhooks/{other.pk}/").status_code == 404
    for action in ("pause", "resume", "delete"):
        assert client.post(f"/notifications/webhooks/{other.pk}/{action}/").status_code == 404
    other.refresh_from_db()
    assert other.is_active


def test_an_officer_who_is_not_an_admin_manages_no_webhooks(world, client, subscriptions):
    client.force_login(world.hpg_officer)

    response = client.get("/notifications/webhooks/")

    assert list(response.context["subscriptions"]) == []
    assert not response.context["can_subscribe"]
    assert client.get(f"/notifications/webhooks/{subscriptions['hpg'].pk}/").status_code == 404


def test_an_admin_pauses_and_resumes_a_subscription(world, client, subscriptions):
    client.force_login(world.hpg_admin)
    url = f"/notifications/webhooks/{subscriptions['hpg'].pk}/"

    client.post(url + "pause/")
    assert not WebhookSubscription.objects.get(pk=subscriptions["hpg"].pk).is_active
    client.post(url + "resume/")
    assert WebhookSubscription.objects.get(pk=subscriptions["hpg"].pk).is_active


def test_deleting_a_subscription_asks_first_and_only_the_confirmation_deletes_it(
    world, client, subscriptions
):
    client.force_login(world.hpg_admin)
    url = f"/notifications/webhooks/{subscriptions['hpg'].pk}/delete/"

    detail = client.get(f"/notifications/webhooks/{subscriptions['hpg'].pk}/").content.decode()
    asked = client.get(url)

    assert f'href="{url}"' in detail  # the detail page links to the question, posts nothing
    assert asked.status_code == 200 and "there is no undo" in asked.content.decode()
    assert WebhookSubscription.objects.filter(pk=subscriptions["hpg"].pk).exists()
    assert client.post(url).status_code == 302
    assert not WebhookSubscription.objects.filter(pk=subscriptions["hpg"].pk).exists()


def test_the_secret_is_shown_once_at_creation(world, client):
    client.force_login(world.hpg_admin)

    response = client.post(
        "/notifications/webhooks/",
        {
            "organisation": world.hpg.pk,
            "url": "https://hpg.example/in",
            "events": ["clearance.requested", "clearance.decided"],
        },
    )

    subscription = WebhookSubscription.objects.get(url="https://hpg.example/in")
    assert subscription.organisation == world.hpg
    assert subscription.created_by == world.hpg_admin
    assert subscription.secret in response.content.decode()
    for later in ("/notifications/webhooks/", f"/notifications/webhooks/{subscription.pk}/"):
        assert subscription.secret not in client.get(later).content.decode()


def test_an_admin_cannot_subscribe_for_another_organisation(world, client):
    client.force_login(world.hpg_admin)

    response = client.post(
        "/notifications/webhooks/",
        {
            "organisation": world.insurer.pk,
            "url": "https://x.example/",
            "events": ["clearance.requested"],
        },
    )

    assert response.status_code == 200
    assert "organisation" in response.context["form"].errors
    assert not WebhookSubscription.objects.exists()


def test_the_delivery_log_shows_attempts_and_status_codes(world, client, subscriptions):
    WebhookDelivery.objects.create(
        subscription=subscriptions["hpg"],
        event="clearance.requested",
        attempts=3,
        last_status_code=502,
    )
    client.force_login(world.hpg_admin)

    response = client.get(f"/notifications/webhooks/{subscriptions['hpg'].pk}/")

    [row] = response.context["deliveries"]
    assert (row.attempts, row.last_status_code) == (3, 502)
    assert "502" in response.content.decode()


def test_the_admin_lists_subscriptions_and_deliveries_without_showing_secrets(
    admin_client, subscriptions
):
    for name in ("webhooksubscription", "webhookdelivery"):
        response = admin_client.get(f"/admin/notifications/{name}/")
        assert response.status_code == 200
        assert "whsec_x" not in response.content.decode()
    change = admin_client.get(
        f"/admin/notifications/webhooksubscription/{subscriptions['hpg'].pk}/change/"
    )
    assert change.status_code == 200
    assert "whsec_x" not in change.content.decode()


def test_a_delivery_sent_late_in_a_long_sweep_is_signed_with_the_time_it_is_sent(
    world, receiver, django_capture_on_commit_callbacks
):
    # A sweep that started ten minutes ago (slow receivers before this one) passes its start
    # time as ``now``; a receiver refuses a signature more than 300 s old.
    _, secret = subscribe(world, receiver)
    with django_capture_on_commit_callbacks(execute=False):
        [delivery] = webhooks.emit(
            event=WebhookEvent.CLEARANCE_REQUESTED, organisation_ids=[world.hpg.pk], payload={}
        )
    sweep_started = timezone.now() - timedelta(minutes=10)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=sweep_started)

    webhooks.deliver_due(now=sweep_started)

    [request] = receiver.requests
    verify_as_a_receiver_would(secret, request["headers"], request["body"])
