"""The owner's application page as a citizen reads it, on a phone and on a desktop: plain
history with the ledger's details one click away, and the progress steps (issue 19, items 2
and 3)."""

from __future__ import annotations

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from clearance import services as clearance_services
from tests.browser.conftest import screenshot
from tests.conftest import registered_application, sent_for_clearance


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("width,height", [(390, 844), (1366, 900)])
def test_the_owner_reads_plain_progress_and_opens_the_ledger_details(
    world, new_page, live_server, width, height
):
    application, requests = sent_for_clearance(world)
    clearance_services.clearance_claim(request_id=requests["HPG"].pk, officer=world.hpg_officer)
    page = new_page(user=world.owner.username)
    page.set_viewport_size({"width": width, "height": height})
    page.goto(reverse("application-detail", args=[application.pk]))

    progress = page.get_by_test_id("progress")
    expect(progress.locator('[data-state="current"]').filter(has_text="HPG check")).to_be_visible()
    line = page.locator("#application-live .clearance .timeline > li").filter(
        has_text="HPG check started by PNP-HPG"
    )
    expect(line).to_be_visible()
    tx = line.locator("details.receipt code")
    expect(tx).to_be_hidden()
    line.locator("details.receipt summary").click()
    expect(tx).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    screenshot(page, f"owner-progress-{width}")


@pytest.mark.django_db(transaction=True)
def test_the_owner_is_told_what_next_after_approval(world, new_page, live_server):
    application = registered_application(world)
    page = new_page(user=world.owner.username)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(reverse("application-detail", args=[application.pk]))

    expect(page.get_by_test_id("what-next")).to_contain_text(application.office.name)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(page, "owner-what-next-390")
    page.set_viewport_size({"width": 1366, "height": 900})
    screenshot(page, "owner-what-next-1366")
