"""The emission decision form as an officer sees it (issue 19, item 8), at 390 and 1366 px.

After a refused approval, a field the officer fills in loses its "needed to approve" message
(it is stale), while the fields still empty keep theirs; the live check calls a CO of -3 a
mistake, never "within the limit".
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from clearance import services as clearance_services
from tests.browser.conftest import screenshot
from tests.conftest import sent_for_clearance

NEEDED = "Needed to approve, or whenever findings are filed."


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("width", [390, 1366])
def test_filled_fields_lose_their_stale_errors_and_a_negative_co_is_no_pass(world, new_page, width):
    _, requests = sent_for_clearance(world)
    request = requests["EMISSION"]
    clearance_services.clearance_claim(request_id=request.pk, officer=world.emission_officer)
    page = new_page(user="emission.officer")
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(f"/clearances/{request.pk}/")

    # Approve with no readings: refused, each missing reading says so.
    page.locator("input[name=decision][value=approved]").check()
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.get_by_role("button", name="Record decision on the ledger").click()
    assert answer.value.status == 422
    co_field = page.locator(".field", has=page.locator("#id_co_percent"))
    hc_field = page.locator(".field", has=page.locator("#id_hc_ppm"))
    expect(co_field.get_by_text(NEEDED)).to_be_visible()
    expect(hc_field.get_by_text(NEEDED)).to_be_visible()

    # The officer types a CO reading: its message is stale and goes; HC's stays.
    page.locator("#id_co_percent").press_sequentially("-3", delay=50)
    expect(co_field.get_by_text(NEEDED)).to_be_hidden()
    expect(hc_field.get_by_text(NEEDED)).to_be_visible()

    # The live check calls -3 a mistake, not a pass.
    check = page.get_by_test_id("emission-check")
    co_line = check.locator("li").first
    expect(co_line).to_contain_text("CO must be between 0 and 100 %.")
    expect(co_line).not_to_contain_text("within the limit")
    expect(page.get_by_test_id("emission-verdict")).to_contain_text("cannot be right as typed")
    screenshot(page, f"emission-form-{width}")
