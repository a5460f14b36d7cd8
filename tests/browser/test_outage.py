"""A Redis outage delays notifications and loses none.

A decision taken while Redis (the Celery broker and the channel layer) is down still commits
with its ledger receipt and its notification rows; the e-mails go out once Redis is back and
the periodic sweep (`notifications.tasks.redeliver_pending`) runs.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from chaincode.rules import ClearanceStatus
from clearance import services as clearance_services
from clearance.events import CLEARANCE_APPROVED
from clearance.models import ClearanceRequest
from ledger import get_ledger
from notifications.models import Delivery, Notification
from notifications.tasks import redeliver_pending
from tests.browser.conftest import wait_until
from tests.conftest import sent_for_clearance


@pytest.mark.django_db(transaction=True)
def test_a_decision_made_while_redis_is_down_commits_and_its_emails_follow(
    world, new_page, celery_worker, live_env, redis_outage
):
    application, requests = sent_for_clearance(world)
    hpg = requests["HPG"]
    clearance_services.clearance_claim(request_id=hpg.pk, officer=world.hpg_officer)
    vehicle = application.vehicle
    # The setup's own e-mails are out before Redis goes down, so none is caught mid-flight.
    wait_until(
        lambda: not Delivery.objects.filter(state__in=Delivery.UNSENT).exists(),
        timeout=15,
        what="the worker to send the setup's e-mails",
    )
    officer = new_page(user="hpg.officer")
    officer.goto(f"/clearances/{hpg.pk}/")
    status = officer.get_by_test_id("clearance-status")
    expect(status).to_have_text("In review")
    officer.locator("#id_engine_number_checked").fill(vehicle.engine_number)
    officer.locator("#id_chassis_number_checked").fill(vehicle.chassis_number)
    officer.locator("#id_macro_etching_result").select_option("match")
    officer.locator("#id_stolen_vehicle_check").select_option("clear")
    officer.locator("#id_certificate_number").fill("HPG-MVC-2025-07731")
    officer.locator("input[name=decision][value=approved]").check()
    title = f"HPG clearance approved for {application.reference}"

    def mail_to_owner() -> list[str]:
        return [
            message
            for message in live_env.sent_mail()
            if f"To: {world.owner.email}" in message and title in message
        ]

    with redis_outage():
        with officer.expect_response(lambda response: response.request.method == "POST") as post:
            officer.get_by_role("button", name="Record decision on the ledger").click()
        assert post.value.status == 302, officer.get_by_role("alert").all_inner_texts()
        expect(status).to_have_text("Approved")
        expect(officer.get_by_role("status")).to_have_text("Decision recorded: approved.")

        hpg.refresh_from_db()
        assert hpg.status == ClearanceStatus.APPROVED
        change = hpg.status_changes.get(to_status=ClearanceStatus.APPROVED)
        assert change.ledger_tx_id
        assert (
            get_ledger()
            .verify_receipt(tx_id=change.ledger_tx_id, change_id=str(change.change_id))
            .ok
        )
        told = Notification.objects.filter(event=CLEARANCE_APPROVED, title=title)
        assert set(told.values_list("recipient__username", flat=True)) == {
            "owner.juan",
            "lto.admin",
        }
        emails = Delivery.objects.filter(notification__in=told, channel=Delivery.Channel.EMAIL)
        assert emails.count() == 2
        assert not emails.exclude(state__in=Delivery.UNSENT).exists()
        assert mail_to_owner() == []

    celery_worker.wait_until_ready()
    # Nothing was queued during the outage: only the sweep sends these. It skips deliveries
    # touched in the last 2 minutes (their own task may still be retrying them); rather than
    # wait that long, date them back as if the sweep ran at its next scheduled time.
    emails.update(updated_at=timezone.now() - dt.timedelta(minutes=3))
    redeliver_pending.delay()

    wait_until(lambda: mail_to_owner(), timeout=15, what="the owner's e-mail after the outage")
    wait_until(
        lambda: not emails.exclude(state=Delivery.State.SENT).exists(),
        timeout=15,
        what="both e-mail deliveries to be marked sent",
    )
    assert len(mail_to_owner()) == 1
    assert ClearanceRequest.objects.get(pk=hpg.pk).status == ClearanceStatus.APPROVED
