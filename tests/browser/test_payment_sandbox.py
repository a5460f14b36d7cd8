"""The sandbox payment in Chromium: the payer goes to the sandbox's hosted checkout, presses
Pay, and lands on the payment's page, which shows it paid once the sandbox's signed callback
(sent by the Celery worker, as a provider's webhook would arrive) has been verified.

The pay button is not on the application page yet (it is wired there when the assessment
branch is merged), so the test starts the payment through the service the button posts to."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from payments import payment_services
from payments.models import Payment, PaymentEvent
from tests.browser.conftest import enable_browser_login, screenshot
from tests.browser.test_journey import post
from tests.conftest import draft_application


@pytest.mark.django_db(transaction=True)
def test_the_payer_pays_in_the_sandbox_checkout(
    world, new_page, celery_worker, live_server, live_env
):
    application = draft_application(world)
    checkout_url = payment_services.payment_start(
        payer=world.owner, application_id=application.pk, assessment_id=4242, amount_centavos=150050
    )
    enable_browser_login(world.owner.username)
    page = new_page(user=world.owner.username)
    page.goto(checkout_url)
    expect(page.get_by_role("heading", level=1)).to_have_text("Sandbox checkout")
    screenshot(page, "payment-sandbox-checkout")
    post(page, page.get_by_role("button", name="Pay", exact=True))
    expect(page.get_by_test_id("payment-status")).to_contain_text("Paid", timeout=20_000)
    payment = Payment.objects.get()
    assert payment.status == "paid"
    assert PaymentEvent.objects.get().outcome == "applied"
