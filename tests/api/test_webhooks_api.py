"""Webhook subscriptions over the API, and the refusal of internal target addresses on every
door: the API, the browser form, and the delivery itself."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.db import transaction

from notifications import webhooks
from notifications.models import WebhookDelivery, WebhookEvent, WebhookSubscription
from tests.api.conftest import client_for
from tests.api.test_problems import assert_problem

PUBLIC_URL = "https://93.184.215.14/talaan"


def _create(client, **payload):
    body = {"url": PUBLIC_URL, "events": ["clearance.requested"], **payload}
    return client.post("/api/v1/webhooks/", body, format="json")


def test_an_admin_subscribes_and_sees_the_secret_only_once(office):
    world = office.world
    client = client_for(office, "hpg_admin")

    response = _create(client, events=["clearance.decided", "clearance.requested"])

    assert response.status_code == 201, response.content
    body = response.json()
    subscription = WebhookSubscription.objects.get(pk=body["id"])
    assert (subscription.organisation, subscription.created_by) == (world.hpg, world.hpg_admin)
    assert subscription.events == ["clearance.decided", "clearance.requested"]
    assert body["secret"] == subscription.secret and body["secret"].startswith("whsec_")
    for later in (f"/api/v1/webhooks/{subscription.pk}/", "/api/v1/webhooks/"):
        assert subscription.secret not in client.get(later).content.decode()


def test_a_key_subscribes_for_its_own_organisation(office):
    response = _create(client_for(office, "hpg_decide_key"))

    assert response.status_code == 201, response.content
    assert response.json()["organisation"] == "hpg"


def test_an_admin_cannot_subscribe_for_an_organisation_they_do_not_manage(office):
    response = _create(client_for(office, "hpg_admin"), organisation="insurer")

    # Well-formed, refused by who the caller is: 422 (the schema cannot say who manages what).
    body = assert_problem(response, 422, "invalid")
    assert set(body["errors"]) == {"organisation"}
    assert not WebhookSubscription.objects.exists()


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/hooks",
        "http://localhost/hooks",
        "https://10.1.2.3/hooks",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/hooks",
        "http://[::ffff:192.168.1.1]/hooks",
        "https://100.64.0.1/hooks",
        "http://0.0.0.0/hooks",
    ],
)
def test_an_internal_target_is_refused_with_a_message_and_nothing_saved(office, url):
    response = _create(client_for(office, "hpg_admin"), url=url)

    body = assert_problem(response, 422, "invalid")
    assert set(body["errors"]) == {"url"}
    assert "public addresses" in body["errors"]["url"][0]
    assert not WebhookSubscription.objects.exists()


def test_a_name_that_resolves_inward_is_refused(office, monkeypatch):
    # No DNS here: the webhook resolver is the one thing replaced.
    def resolve(host, port):
        assert host == "intranet.example.ph"
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.5", port))]

    monkeypatch.setattr(webhooks, "_resolve", resolve)

    response = _create(client_for(office, "hpg_admin"), url="https://intranet.example.ph/in")

    body = assert_problem(response, 422, "invalid")
    assert "10.0.0.5" in body["errors"]["url"][0]
    assert not WebhookSubscription.objects.exists()


def test_internal_targets_are_allowed_when_the_setting_says_so(office, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True

    response = _create(client_for(office, "hpg_admin"), url="http://127.0.0.1:9000/hooks")

    assert response.status_code == 201, response.content


def test_the_browser_form_refuses_internal_targets_with_the_same_message(office, client):
    client.force_login(office.world.hpg_admin)

    response = client.post(
        "/notifications/webhooks/",
        {
            "organisation": office.world.hpg.pk,
            "url": "http://169.254.169.254/latest/",
            "events": ["clearance.requested"],
        },
    )

    assert response.status_code == 200
    [message] = response.context["form"].errors["url"]
    assert "public addresses" in message
    assert not WebhookSubscription.objects.exists()


@pytest.fixture
def loopback_receiver() -> Iterator[tuple[str, list[bytes]]]:
    received: list[bytes] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append(self.rfile.read(int(self.headers["Content-Length"])))
            self.send_response(204)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/in", received
    server.shutdown()
    server.server_close()


def _pending_delivery(office, url: str) -> WebhookDelivery:
    WebhookSubscription.objects.create(
        organisation=office.world.hpg, url=url, events=["clearance.requested"], secret="whsec_t"
    )
    with transaction.atomic():
        [delivery] = webhooks.emit(
            event=WebhookEvent.CLEARANCE_REQUESTED,
            organisation_ids=[office.world.hpg.pk],
            payload={},
        )
    return delivery


def test_a_delivery_to_an_address_that_became_internal_is_not_sent(office, loopback_receiver):
    # Saved before the check existed, or a name that resolved publicly when subscribed.
    url, received = loopback_receiver
    delivery = _pending_delivery(office, url)

    assert webhooks.deliver(delivery_id=delivery.pk) is False

    assert received == []
    delivery.refresh_from_db()
    assert delivery.last_status_code is None
    assert "127.0.0.1" in delivery.last_error and "public addresses" in delivery.last_error


def test_a_loopback_receiver_gets_the_delivery_when_the_setting_allows_it(
    office, loopback_receiver, settings
):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    url, received = loopback_receiver
    delivery = _pending_delivery(office, url)

    assert webhooks.deliver(delivery_id=delivery.pk) is True

    assert len(received) == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.last_status_code) == ("sent", 204)


def test_pause_and_resume_change_whether_deliveries_go_out(office):
    subscription = WebhookSubscription.objects.create(
        organisation=office.world.hpg, url=PUBLIC_URL, events=["clearance.decided"], secret="s"
    )
    client = client_for(office, "hpg_decide_key")
    path = f"/api/v1/webhooks/{subscription.pk}/"

    paused = client.post(path + "pause/")
    assert (paused.status_code, paused.json()["is_active"]) == (200, False)
    subscription.refresh_from_db()
    assert subscription.paused_at is not None and not subscription.is_active

    resumed = client.post(path + "resume/")
    assert (resumed.status_code, resumed.json()["is_active"]) == (200, True)
    subscription.refresh_from_db()
    assert subscription.is_active and subscription.consecutive_failures == 0


def test_deleting_a_subscription_removes_it_and_its_log(office):
    subscription = WebhookSubscription.objects.create(
        organisation=office.world.hpg, url=PUBLIC_URL, events=["clearance.decided"], secret="s"
    )
    WebhookDelivery.objects.create(subscription=subscription, event="clearance.decided")

    response = client_for(office, "hpg_admin").delete(f"/api/v1/webhooks/{subscription.pk}/")

    assert response.status_code == 204
    assert not WebhookSubscription.objects.filter(pk=subscription.pk).exists()
    assert not WebhookDelivery.objects.exists()


def test_the_delivery_log_shows_status_attempts_and_response_codes(office):
    subscription = WebhookSubscription.objects.create(
        organisation=office.world.hpg, url=PUBLIC_URL, events=["clearance.decided"], secret="s"
    )
    WebhookDelivery.objects.create(
        subscription=subscription,
        event="clearance.decided",
        attempts=3,
        last_status_code=502,
        last_error="HTTP 502 Bad Gateway",
        payload={"reference": "TLN-X"},
    )

    response = client_for(office, "hpg_read_key").get(
        f"/api/v1/webhooks/{subscription.pk}/deliveries/"
    )

    assert response.status_code == 200
    [row] = response.json()["results"]
    assert (row["status"], row["attempts"], row["last_status_code"]) == ("pending", 3, 502)
    assert row["last_error"] == "HTTP 502 Bad Gateway"
    assert row["payload"] == {"reference": "TLN-X"}


def test_a_read_key_cannot_change_subscriptions(office):
    subscription = WebhookSubscription.objects.create(
        organisation=office.world.hpg, url=PUBLIC_URL, events=["clearance.decided"], secret="s"
    )

    response = client_for(office, "hpg_read_key").post(f"/api/v1/webhooks/{subscription.pk}/pause/")

    body = assert_problem(response, 403, "permission_denied")
    assert "decide" in body["detail"]
    subscription.refresh_from_db()
    assert subscription.is_active
