"""Filipino in Chromium: the header's switch, remembered across reloads and sign-ins; a new
browser gets the language it asks for; the owner's pages in Filipino at a phone's and a
desktop's width (screenshots/language/, looked at for words too long for their buttons)."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from tests.browser.conftest import screenshot
from tests.conftest import sent_for_clearance


@pytest.fixture(scope="module", autouse=True)
def compiled_catalogues():
    """The server reads the compiled catalogues (`make install` builds them)."""
    call_command("compilemessages", "--ignore=.venv", "--ignore=node_modules", verbosity=0)


@pytest.mark.django_db(transaction=True)
def test_filipino_chosen_in_the_header_stays_through_reload_and_a_new_sign_in(world, new_page):
    page = new_page(user="owner.juan")
    expect(page.get_by_role("heading", name="My applications")).to_be_visible()

    page.get_by_role("button", name="Filipino").click()
    expect(page.get_by_role("heading", name="Aking mga aplikasyon")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "fil")
    page.reload()
    expect(page.get_by_role("heading", name="Aking mga aplikasyon")).to_be_visible()

    page.get_by_role("button", name="Mag-sign out").click()
    expect(page.get_by_role("heading", name="Mag-sign in")).to_be_visible()
    page.context.clear_cookies()  # as on another browser: only the saved choice is left
    page.goto("/login/")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.locator("#id_username").fill("owner.juan")
    page.locator("#id_password").fill("pw-for-tests-only")
    page.locator('form:has(#id_password) [type="submit"]').click()
    expect(page.get_by_role("heading", name="Aking mga aplikasyon")).to_be_visible()

    page.get_by_role("button", name="English").click()
    expect(page.get_by_role("heading", name="My applications")).to_be_visible()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("locale", "heading"), [("fil", "Mag-sign in"), ("fil-PH", "Mag-sign in"), ("en-US", "Sign in")]
)
def test_a_new_browser_gets_the_language_it_asks_for(browser, live_server, locale, heading):
    context = browser.new_context(base_url=live_server.url, locale=locale)
    try:
        page = context.new_page()
        page.goto("/login/")
        expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()
    finally:
        context.close()


@pytest.mark.django_db(transaction=True)
def test_the_owners_pages_in_filipino_fit_a_phone_and_a_desktop(world, new_page):
    application, _ = sent_for_clearance(world)
    page = new_page(user="owner.juan")
    page.get_by_role("button", name="Filipino").click()
    for width, height in ((390, 844), (1280, 800)):
        page.set_viewport_size({"width": width, "height": height})
        for name, address in (("home", "/"), ("application", f"/applications/{application.pk}/")):
            page.goto(address)
            expect(page.locator("html")).to_have_attribute("lang", "fil")
            wide = page.evaluate("document.documentElement.scrollWidth")
            assert wide <= width, f"{address} at {width} px scrolls sideways ({wide} px)"
            # No button or link-button is cut: its text fits inside it.
            cut = page.evaluate(
                """() => [...document.querySelectorAll('button, a.button')]
                  .filter(el => el.offsetParent && el.scrollWidth > el.clientWidth + 1)
                  .map(el => el.innerText.trim())"""
            )
            assert not cut, f"{address} at {width} px: text cut in {cut}"
            screenshot(page, f"language/owner-{name}-fil-{width}")
