"""An officer halfway through a decision uploads evidence and loses nothing; a refused
decision, reloaded, shows the decision page again (issue 19, items 4 and 5)."""

from __future__ import annotations

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from clearance.models import ClearanceRequest
from registry.models import Document
from tests.browser.conftest import screenshot
from tests.browser.test_journey import post
from tests.conftest import STAND_IN_PDF, sent_for_clearance


@pytest.mark.django_db(transaction=True)
def test_an_officer_uploads_evidence_mid_decision_and_keeps_the_draft(
    world, new_page, live_server, tmp_path
):
    _, requests = sent_for_clearance(world)
    request = requests["EMISSION"]
    printout = tmp_path / "printout.pdf"
    printout.write_bytes(STAND_IN_PDF)
    page = new_page(user=world.emission_officer.username)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(reverse("clearance-detail", args=[request.pk]))
    post(page, page.get_by_role("button", name="Claim this request"))

    # Half a decision: a remark, a certificate number, Approve ticked.
    page.locator("[name=remarks]").fill("Lane 2, second run.")
    page.locator("[name=certificate_number]").fill("ETC-2026-0042")
    page.get_by_label("Approve").check()
    kind = page.get_by_label("Kind of evidence")
    expect(kind).to_have_value("")  # nothing chosen for the officer
    kind.select_option("emission_certificate")
    page.get_by_label("Evidence file").set_input_files(printout)
    screenshot(page, "decision-evidence-390")
    post(page, page.get_by_role("button", name="Upload evidence now (keeps your draft)"))

    # Back on the decision page with the file filed and every half-filled field as it was.
    expect(page).to_have_url(f"{live_server.url}{reverse('clearance-detail', args=[request.pk])}")
    expect(page.get_by_test_id("draft-kept")).to_be_visible()
    expect(page.locator("[name=remarks]")).to_have_value("Lane 2, second run.")
    expect(page.locator("[name=certificate_number]")).to_have_value("ETC-2026-0042")
    expect(page.get_by_label("Approve")).to_be_checked()
    expect(page.locator(".documents")).to_contain_text("Emission certificate")
    assert Document.objects.filter(clearance_request=request).count() == 1
    assert ClearanceRequest.objects.get(pk=request.pk).status == "in_review"

    # A decision refused for its missing readings, then reloaded: the page, not 405.
    page.set_viewport_size({"width": 1366, "height": 900})
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.get_by_role("button", name="Record decision on the ledger").click()
    assert answer.value.status == 422
    expect(page.locator(".field-error").first).to_be_visible()
    reloaded = page.goto(page.url)  # what a reload after reading the errors does: a GET
    assert reloaded is not None and reloaded.status == 200
    expect(page.get_by_role("heading", name="Decision")).to_be_visible()
    expect(page.locator("[name=remarks]")).to_have_value("Lane 2, second run.")
    screenshot(page, "decision-evidence-1366")
