"""Notifications are rows written with the change, delivered after commit, never dropped."""

from __future__ import annotations

import socket

import pytest
from django.core import mail
from django.db import transaction

from chaincode.rules import ClearanceStatus
from clearance import services as clearance_services
from notifications import services as notification_services
from notifications.models import Delivery, Notification
from notifications.tasks import redeliver_pending
from talaan.celery import app as celery_app
from tests.conftest import findings_for, sent_for_clearance


@pytest.fixture
def eager_celery():
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = False


@pytest.fixture
def claimed(world):
    _, requests = sent_for_clearance(world)
    request = requests["HPG"]
    clearance_services.clearance_claim(request_id=request.pk, officer=world.hpg_officer)
    Notification.objects.all().delete()
    return request


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

    assert len(callbacks) == 1
    callbacks[0]()
    assert sorted(message.to[0] for message in mail.outbox) == [
        "lto.admin@example.ph",
        "owner.juan@example.ph",
    ]
    assert set(Delivery.objects.values_list("state", flat=True)) == {Delivery.State.SENT}


def test_a_mail_outage_is_recorded_and_the_sweep_sends_later(
    world, claimed, eager_celery, django_capture_on_commit_callbacks, monkeypatch
):
    def mail_server_down(**kwargs):
        # Stands in for an SMTP server that refuses connections: none runs here.
        raise ConnectionRefusedError("SMTP server refused the connection")

    monkeypatch.setattr(notification_services, "send_mail", mail_server_down)
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
    celery_app.pool.force_close_all()
    try:
        with django_capture_on_commit_callbacks(execute=True):
            change = approve(world, claimed)
    finally:
        celery_app.conf.broker_url = original
        celery_app.pool.force_close_all()

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
