"""The sandbox payment in Chromium, from the application's page: the applicant presses Pay
(the amount is the page's assessment), pays on the sandbox's hosted checkout, and the
payment's page and then the application's page show it paid, with the amount and the date,
once the sandbox's signed callback (sent by the Celery worker, as a provider's webhook would
arrive) has been verified."""

from __future__ import annotations

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from payments.models import Payment, PaymentEvent
from tests.browser.conftest import enable_browser_login, screenshot
from tests.browser.test_journey import post
from tests.conftest import filed_application


@pytest.mark.django_db(transaction=True)
def test_the_applicant_pays_from_the_application_page_in_the_sandbox_checkout(
    world, new_page, celery_worker, live_server, live_env
):
    application = filed_application(world)
    enable_browser_login(world.owner.username)
    page = new_page(user=world.owner.username)
    page.goto(f"/applications/{application.pk}/")
    total = page.get_by_test_id("assessment-total").inner_text()
    pay = page.get_by_role("button", name=f"Pay {total} online")
    expect(pay).to_be_visible()

    post(page, pay)
    expect(page.get_by_role("heading", level=1)).to_have_text("Sandbox checkout")
    expect(page.get_by_test_id("sandbox-amount")).to_contain_text(total)
    screenshot(page, "payment-sandbox-checkout")
    post(page, page.get_by_role("button", name="Pay", exact=True))
    expect(page.get_by_test_id("payment-status")).to_contain_text("Paid", timeout=20_000)

    page.get_by_role("link", name="Back to the application").click()
    paid = page.get_by_test_id("payment-paid")
    expect(paid).to_contain_text(f"Paid {total} on")
    payment = Payment.objects.get()
    expect(paid).to_contain_text(timezone.localtime(payment.paid_at).strftime("%d %b %Y"))
    expect(page.get_by_role("button", name=f"Pay {total} online")).to_have_count(0)
    screenshot(page, "payment-paid-application")
    assert payment.status == "paid" and payment.application_id == application.pk
    assert payment.amount_centavos == application.assessments.get().total_centavos
    assert PaymentEvent.objects.get().outcome == "applied"
