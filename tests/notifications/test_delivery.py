"""Notifications are rows written with the change, delivered after commit, never dropped."""

from __future__ import annotations

import socket

import pytest
from celery.exceptions import Retry
from django.core import mail
from django.core.mail.backends import locmem
from django.db import transaction
from kombu import pools as kombu_pools

from chaincode.rules import ClearanceStatus
from clearance import services as clearance_services
from notifications import services as notification_services
from notifications.models import Delivery, Notification
from notifications.tasks import deliver_notifications, redeliver_pending
from talaan.celery import app as celery_app
from tests.conftest import findings_for, sent_for_clearance


@pytest.fixture
def claimed(world):
    _, requests = sent_for_clearance(world)
    request = requests["HPG"]
    clearance_services.clearance_claim(request_id=request.pk, officer=world.hpg_officer)
    Notification.objects.all().delete()
    return request


def forget_broker_connections() -> None:
    """Make the next publish connect to the broker URL configured now.

    Celery caches its connection and producer pools; closing them alone leaves a closed pool
    that refuses every later publish ("Acquire on closed pool"), in this test and all the
    following ones. Dropping them is what Celery itself does in a forked worker.
    """
    kombu_pools.reset()
    celery_app._after_fork()


def approve(world, request):
    return clearance_services.clearance_decide(
        request_id=request.pk,
        officer=world.hpg_officer,
        decision=ClearanceStatus.APPROVED,
        remarks="Numbers match.",
        findings=findings_for(request),
    )


def test_a_decision_notifies_the_owner_and_lto_after_commit(
    world, claimed, eager_celery, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        approve(world, claimed)
        recipients = set(Notification.objects.values_list("recipient__username", flat=True))
        assert recipients == {"owner.juan", "lto.admin"}
        assert mail.outbox == []  # nothing leaves before the transaction commits

    assert callbacks  # delivery and the live push, both waiting for the commit
    for callback in callbacks:
        callback()
    assert sorted(message.to[0] for message in mail.outbox) == [
        "lto.admin@example.ph",
        "owner.juan@example.ph",
    ]
    assert set(Delivery.objects.values_list("state", flat=True)) == {Delivery.State.SENT}


def test_a_mail_outage_is_recorded_and_the_sweep_sends_later(
    world, claimed, eager_celery, django_capture_on_commit_callbacks, monkeypatch
):
    def mail_server_down(self, messages):
        # Stands in for an SMTP server that refuses connections: none runs here.
        raise ConnectionRefusedError("SMTP server refused the connection")

    monkeypatch.setattr(locmem.EmailBackend, "send_messages", mail_server_down)
    with django_capture_on_commit_callbacks(execute=True):
        approve(world, claimed)

    deliveries = Delivery.objects.all()
    assert {d.state for d in deliveries} == {Delivery.State.FAILED}
    assert all(d.attempts >= 1 and "refused" in d.last_error for d in deliveries)

    monkeypatch.undo()
    Delivery.objects.update(updated_at="2000-01-01T00:00:00Z")
    assert redeliver_pending() == 2
    assert {d.state for d in Delivery.objects.all()} == {Delivery.State.SENT}
    assert len(mail.outbox) == 2


def test_a_broker_outage_does_not_fail_the_committed_decision(
    world, claimed, django_capture_on_commit_callbacks
):
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()
    original = celery_app.conf.broker_url
    celery_app.conf.broker_url = f"redis://127.0.0.1:{port}/0"
    forget_broker_connections()
    try:
        with django_capture_on_commit_callbacks(execute=True):
            change = approve(world, claimed)
    finally:
        celery_app.conf.broker_url = original
        forget_broker_connections()

    claimed.refresh_from_db()
    assert claimed.status == ClearanceStatus.APPROVED and change.pk
    assert Delivery.objects.filter(state=Delivery.State.PENDING).count() == 2
    Delivery.objects.update(updated_at="2000-01-01T00:00:00Z")
    assert redeliver_pending() == 2


def test_notifications_vanish_with_a_rolled_back_change(world, claimed):
    with pytest.raises(RuntimeError), transaction.atomic():
        notification_services.notify(
            recipients=[world.owner], event="clearance_approved", title="t", body="", link=""
        )
        raise RuntimeError("the change failed")
    assert not Notification.objects.exists()


def test_a_failed_delivery_is_retried_by_the_worker_with_exponential_backoff(world, monkeypatch):
    def mail_server_down(self, messages):
        raise ConnectionRefusedError("SMTP server refused the connection")

    monkeypatch.setattr(locmem.EmailBackend, "send_messages", mail_server_down)
    [notification] = notification_services.notify(
        recipients=[world.owner], event="clearance_approved", title="t", body="", link=""
    )
    countdowns = []

    def retry(*, countdown):
        countdowns.append(countdown)
        return Retry()

    monkeypatch.setattr(deliver_notifications, "retry", retry)
    # As a worker runs it, on its fourth try (three retries so far).
    deliver_notifications.push_request(retries=3, is_eager=False)
    try:
        with pytest.raises(Retry):
            deliver_notifications.run([notification.pk])
    finally:
        deliver_notifications.pop_request()

    assert countdowns == [80]
    delivery = Delivery.objects.get()
    assert delivery.state == Delivery.State.FAILED and delivery.attempts == 1
