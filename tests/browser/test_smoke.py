"""The end-to-end harness works: Chromium signs in to the live server, the worker sends mail."""

from __future__ import annotations

import os
import re
import subprocess
import uuid

import pytest
from playwright.sync_api import expect

from clearance.events import CLEARANCE_APPROVED
from notifications.models import Delivery, Notification
from notifications.tasks import deliver_notifications
from tests.browser.conftest import enable_browser_login, screenshot, wait_until
from tests.conftest import filed_application
from tests.factories import UserFactory


@pytest.mark.django_db(transaction=True)
def test_an_owner_signs_in_and_sees_their_own_application(world, new_page):
    mine = filed_application(world)
    theirs = filed_application(world, owner=world.other_owner)

    page = new_page(user="owner.juan")

    expect(page.get_by_role("heading", name="My applications")).to_be_visible()
    expect(page.get_by_role("link", name=mine.reference)).to_be_visible()
    expect(page.get_by_text(theirs.reference)).to_have_count(0)
    # The stylesheet came from WhiteNoise (DEBUG is off) and applied.
    assert page.evaluate(
        "document.styleSheets.length > 0"
        " && [...document.styleSheets].every(sheet => sheet.cssRules.length > 0)"
    )
    assert screenshot(page, "owner-home").stat().st_size > 0


@pytest.mark.django_db(transaction=True)
def test_a_wrong_password_is_refused_with_a_clear_message(world, new_page):
    # The right password would work: the refusal is for the wrong one.
    enable_browser_login("owner.juan")
    page = new_page()

    page.goto("/login/")
    page.locator("#id_username").fill("owner.juan")
    page.locator("#id_password").fill("not-the-password")
    page.locator('form:has(#id_password) [type="submit"]').click()

    expect(page.get_by_role("alert")).to_contain_text("did not match")
    expect(page).to_have_url(re.compile(r"/login/$"))


@pytest.mark.django_db(transaction=True)
def test_the_worker_delivers_a_queued_email(celery_worker, live_env):
    owner = UserFactory(username="owner.juan")
    title = f"Clearance approved {uuid.uuid4().hex[:8]}"
    notification = Notification.objects.create(
        recipient=owner, event=CLEARANCE_APPROVED, title=title, body="HPG approved it."
    )
    delivery = Delivery.objects.create(notification=notification, channel=Delivery.Channel.EMAIL)

    deliver_notifications.delay([notification.pk])

    wait_until(
        lambda: Delivery.objects.get(pk=delivery.pk).state == Delivery.State.SENT,
        timeout=10,
        what="the worker to mark the delivery sent",
    )
    mail = [message for message in live_env.sent_mail() if title in message]
    assert len(mail) == 1 and "To: owner.juan@example.ph" in mail[0]


def redis_cli_ping() -> bool:
    port = os.environ["TALAAN_REDIS_PORT"]
    answer = subprocess.run(["redis-cli", "-p", port, "ping"], capture_output=True, text=True)
    return answer.returncode == 0 and answer.stdout.strip() == "PONG"


def test_redis_outage_stops_the_test_redis_and_brings_it_back(redis_outage):
    with redis_outage():
        assert not redis_cli_ping()

    assert redis_cli_ping()
