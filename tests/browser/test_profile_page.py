"""The profile and the privacy notice as a person reaches them (issue 19, items 9 and 10), at a
phone's 390 px and a desktop's 1366 px: from their name in the header to the profile, where a
mobile number is saved normalised; from the footer to the privacy notice."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from registry.models import OwnerProfile
from tests.browser.conftest import screenshot


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("width", [390, 1366])
def test_an_owner_reaches_the_profile_from_the_header_and_saves_a_mobile_number(
    world, new_page, width
):
    page = new_page(user="owner.juan")
    page.set_viewport_size({"width": width, "height": 900})
    header = page.locator("header.topbar")
    expect(header).to_contain_text("Land Transportation Office")
    expect(header).to_contain_text("Talaan vehicle registry")

    header.locator("a.who").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your profile")
    page.get_by_role("textbox", name="Mobile number", exact=True).fill("0917 123 4567")
    page.get_by_role("button", name="Save").click()

    expect(page.get_by_role("status")).to_have_text("Your profile is saved.")
    expect(page.get_by_role("textbox", name="Mobile number", exact=True)).to_have_value(
        "+639171234567"
    )
    assert OwnerProfile.objects.get(user=world.owner).mobile_number == "+639171234567"
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    screenshot(page, f"profile-{width}")

    page.locator("footer").get_by_role("link", name="Privacy notice").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Privacy notice")
    expect(page.get_by_role("heading", name="Data Protection Officer")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    screenshot(page, f"privacy-{width}")
