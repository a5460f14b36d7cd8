"""A dealer's new vehicle in the browser: the dealer's officer records it and invites the
buyer; the buyer opens the link the worker e-mailed, accepts, and finds its registration filed
with the dealer's numbers, shown read-only, never typed. The LTO sees where it came from."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from organisations.models import Membership
from registry.models import OriginRecord, Vehicle
from tests.browser.conftest import enable_browser_login, screenshot, wait_until
from tests.browser.test_journey import post
from tests.factories import OrganisationFactory, UserFactory

VIN = "MHKA4DE30RJ077777"


@pytest.mark.django_db(transaction=True)
def test_a_dealer_records_a_vehicle_and_its_buyer_registers_it_without_typing_numbers(
    world, new_page, celery_worker, live_server, live_env
):
    dealer = OrganisationFactory(
        kind="DEALER", code="manila-bay-motors", name="Manila Bay Motors", msp_id="DealerMSP"
    )
    officer = UserFactory(username="dealer.officer")
    Membership.objects.create(user=officer, organisation=dealer)
    enable_browser_login("dealer.officer")

    # The dealer's officer lands on the dealer's records and records a new vehicle.
    page = new_page(user="dealer.officer")
    page.goto("/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Manila Bay Motors: origin records")
    page.get_by_role("main").get_by_role("link", name="Record a vehicle").click()
    for label, value in (
        ("VIN", VIN),
        ("Engine number", "1NRX7777777"),
        ("Chassis number", "MHKA4DE30RJ077777C"),
        ("Make", "Toyota"),
        ("Model", "Raize"),
        ("Year", "2026"),
        ("Colour", "Turquoise"),
        ("CSR number", "CSR-2026-007777"),
        ("Sales invoice number", "MBM-SI-17777"),
        ("Sales invoice date", f"{timezone.localdate():%Y-%m-%d}"),
    ):
        page.get_by_label(label, exact=True).fill(value)
    page.get_by_label("Body type").select_option("suv")
    page.get_by_label("Fuel").select_option("gasoline")
    post(page, page.get_by_role("button", name="Record and sign"))
    expect(page.get_by_test_id("origin-status")).to_have_text("unsold")
    page.get_by_label("Buyer's e-mail address").fill(world.other_owner.email)
    post(page, page.get_by_role("button", name="Send the sale invitation"))
    expect(page.get_by_test_id("origin-status")).to_have_text("invitation sent")
    screenshot(page, "origin-dealer")

    # The buyer opens the e-mailed link and accepts: the registration is filed for them.
    def invitation() -> str | None:
        for message in live_env.sent_mail():
            if f"To: {world.other_owner.email}" in message and "/sales/answer/" in message:
                return re.search(r"https?://\S+/sales/answer/\S+/", message).group(0)
        return None

    wait_until(invitation, timeout=20, what="the buyer's invitation e-mail")
    buyer = new_page(user="owner.maria")
    buyer.goto(urlsplit(invitation()).path)
    expect(buyer.get_by_role("heading", level=1)).to_have_text(
        "Manila Bay Motors is selling you a new vehicle"
    )
    expect(buyer.get_by_test_id("origin-numbers")).to_contain_text(VIN)
    post(buyer, buyer.get_by_role("button", name="Accept and file the registration"))
    expect(buyer).to_have_url(re.compile(r"/applications/\d+/$"))
    expect(buyer.get_by_test_id("application-status")).to_have_text("Draft")
    expect(buyer.get_by_test_id("vehicle-origin")).to_contain_text(
        "Dealer Manila Bay Motors: CSR CSR-2026-007777"
    )
    buyer.get_by_text("Correct the vehicle's details").click()
    expect(buyer.locator("#id_vin")).to_be_disabled()
    expect(buyer.locator("#id_vin")).to_have_value(VIN)
    screenshot(buyer, "origin-buyer")
    vehicle = Vehicle.objects.get(vin=VIN)
    assert vehicle.owner_id == world.other_owner.pk
    assert OriginRecord.objects.get(vin=VIN).vehicle_id == vehicle.pk

    # The LTO sees which way the vehicle came.
    lto = new_page(user="lto.admin")
    lto.goto(urlsplit(buyer.url).path)
    expect(lto.get_by_test_id("vehicle-origin")).to_contain_text("Dealer Manila Bay Motors")
