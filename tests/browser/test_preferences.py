"""An owner on a phone chooses SMS for an event: every choice column is on the screen."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from notifications.selectors import preferences_for
from registry.events import REGISTRATION_APPROVED
from tests.browser.conftest import screenshot


@pytest.mark.django_db(transaction=True)
def test_an_owner_on_a_phone_turns_on_sms_for_one_event(world, new_page):
    page = new_page(user="owner.juan")
    page.set_viewport_size({"width": 390, "height": 844})

    page.goto("/notifications/preferences/")
    sms = page.get_by_role("checkbox", name=f"SMS: {REGISTRATION_APPROVED.label}")
    expect(sms).to_be_visible()
    # On a phone each row is a card: the SMS cell carries its column's name as its label
    # (the header row is kept for screen readers only).
    expect(sms.locator("xpath=ancestor::td[1]")).to_have_attribute("data-label", "SMS")
    # An owner is offered an owner's events only.
    expect(page.get_by_text("Clearance requested")).to_have_count(0)
    sms.check()
    page.get_by_role("button", name="Save preferences").click()

    expect(page.get_by_text("Your notification preferences are saved.")).to_be_visible()
    screenshot(page, "preferences-owner-phone")
    assert preferences_for(world.owner)[REGISTRATION_APPROVED].sms is True
