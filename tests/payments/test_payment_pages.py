"""Paying from the application's page, and the LTO's side of it: Approve refused while the
fees are unpaid (and why), the payments with their refunds, the refund form. The sandbox
gateway runs in-process (nothing mocked)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from chaincode.rules import ApplicationStatus
from payments.models import Assessment, FeeRate, FeeSchedule, Payment, Refund
from registry import services as registry_services
from tests.conftest import (
    claim_and_approve,
    draft_application,
    filed_application,
    sent_for_clearance,
)
from tests.paying import pay_in_full

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("eager_celery")]

TOTAL = 325400  # see test_payment_api


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def page_of(client: Client, application) -> str:
    response = client.get(reverse("application-detail", args=[application.pk]))
    assert response.status_code == 200
    return response.content.decode()


def pay_token(page: str) -> str:
    return page.split('name="payable" value="')[1].split('"')[0]


def cleared(world):
    application, requests = sent_for_clearance(world)
    for request in requests.values():
        claim_and_approve(world, request)
    application.refresh_from_db()
    return application


def test_a_draft_shows_its_fees_without_a_pay_button_until_it_is_submitted(world):
    application = draft_application(world)
    owner = signed_in(world.owner)

    assert 'name="payable"' not in page_of(owner, application)
    assert "You pay once the application is submitted" in page_of(owner, application)

    submitted = filed_application(world)
    page = page_of(owner, submitted)
    assert "Pay ₱3,254.00 online" in page
    assert "Due now" in page


def test_the_owner_pays_from_the_page_and_sees_it_paid_with_amount_and_date(world):
    application = filed_application(world)
    owner = signed_in(world.owner)

    start = owner.post(
        reverse("payment-start"), {"payable": pay_token(page_of(owner, application))}
    )
    assert start.status_code == 302
    payment = Payment.objects.get()
    assert payment.amount_centavos == TOTAL
    assert payment.assessment_id == Assessment.objects.get(application=application).pk

    # Left at the checkout: the page says so and links back to it; no second button.
    page = page_of(owner, application)
    assert "Payment in progress" in page and f'href="{payment.redirect_url}"' in page
    assert 'name="payable"' not in page

    owner.post(start.url, {"action": "pay"})
    page = page_of(owner, application)
    payment.refresh_from_db()
    assert 'data-testid="payment-paid"' in page
    assert "₱3,254.00" in page and timezone.localtime(payment.paid_at).strftime("%d %b %Y") in page
    assert 'name="payable"' not in page


def test_an_expired_checkout_offers_pay_again(world):
    application = filed_application(world)
    owner = signed_in(world.owner)
    owner.post(reverse("payment-start"), {"payable": pay_token(page_of(owner, application))})
    Payment.objects.update(expires_at=timezone.now() - timedelta(minutes=1))

    page = page_of(owner, application)

    assert 'data-testid="payment-expired"' in page and "pay again" in page
    again = owner.post(reverse("payment-start"), {"payable": pay_token(page)})
    assert again.status_code == 302
    assert sorted(Payment.objects.values_list("status", flat=True)) == ["expired", "pending"]


def test_paying_after_the_assessment_lapsed_pays_the_new_assessment_never_the_old_figure(world):
    application = filed_application(world)
    owner = signed_in(world.owner)
    old_button = pay_token(page_of(owner, application))
    # The assessment's validity passes and the schedule's plate fee changes meanwhile.
    Assessment.objects.update(valid_until=timezone.now() - timedelta(seconds=1))
    FeeRate.objects.filter(code=FeeRate.Code.PLATE_FEE).update(amount_centavos=50000)

    refused = owner.post(reverse("payment-start"), {"payable": old_button})

    assert refused.status_code == 422
    assert "The amount due is ₱3,304.00" in refused.content.decode()
    assert not Payment.objects.exists()
    start = owner.post(
        reverse("payment-start"), {"payable": pay_token(page_of(owner, application))}
    )
    assert start.status_code == 302
    current = Assessment.objects.filter(application=application).order_by("-computed_at").first()
    payment = Payment.objects.get()
    assert (payment.assessment_id, payment.amount_centavos) == (current.pk, 330400)


def test_approve_is_refused_on_the_lto_page_while_unpaid_and_allowed_once_paid(world):
    application = cleared(world)
    staff = signed_in(world.lto_admin)
    assert "The fees are not paid: ₱3,254.00 is due" in page_of(staff, application)

    refused = staff.post(reverse("registration-approve", args=[application.pk]), {})

    assert refused.status_code == 409
    assert "The fees are not paid: ₱3,254.00 is due" in refused.content.decode()
    application.refresh_from_db()
    assert application.status == ApplicationStatus.CLEARED
    assert not application.vehicle.plate_number and not application.vehicle.mv_file_number

    pay_in_full(application)
    assert 'data-testid="approval-refusal"' not in page_of(staff, application)
    approved = staff.post(reverse("registration-approve", args=[application.pk]), {})
    assert approved.status_code == 302
    application.refresh_from_db()
    assert application.status == ApplicationStatus.APPROVED


def test_an_application_with_nothing_to_pay_is_approved_without_a_payment(world):
    application = cleared(world)
    FeeRate.objects.update(amount_centavos=0, per_kg_centavos=0, percent=0)
    Assessment.objects.update(valid_until=timezone.now() - timedelta(seconds=1))

    registry_services.registration_approve(application_id=application.pk, actor=world.lto_admin)

    application.refresh_from_db()
    assert application.status == ApplicationStatus.APPROVED and not Payment.objects.exists()


def test_with_no_fee_schedule_in_force_approval_is_refused(world):
    application = cleared(world)
    Assessment.objects.all().delete()
    FeeSchedule.objects.all().delete()
    staff = signed_in(world.lto_admin)

    refused = staff.post(reverse("registration-approve", args=[application.pk]), {})

    assert refused.status_code == 409 and "no fee schedule is in force" in refused.content.decode()


def test_lto_staff_see_the_payment_and_refund_part_of_it_from_the_page(world):
    application = filed_application(world)
    payment = pay_in_full(application)
    staff = signed_in(world.lto_admin)
    page = page_of(staff, application)
    assert f'data-testid="payment-{payment.reference}"' in page and "Refund this payment" in page
    assert "Refund this payment" not in page_of(signed_in(world.owner), application)
    url = reverse("payment-refund", args=[payment.pk])

    too_much = staff.post(url, {"amount": "3254.01", "reason": "All of it."})
    assert too_much.status_code == 422 and not Refund.objects.exists()
    no_reason = staff.post(url, {"amount": "10"})
    assert no_reason.status_code == 422 and not Refund.objects.exists()
    done = staff.post(url, {"amount": "450", "reason": "Plate fee charged twice."})
    assert done.status_code == 302

    refund = Refund.objects.get()
    assert refund.amount_centavos == 45000 and refund.provider_refund_id.startswith("sbx_ref_")
    page = page_of(staff, application)
    assert "Plate fee charged twice." in page and refund.provider_refund_id in page
    assert "At most ₱2,804.00 can be refunded" in page
    # The owner still sees it paid: a partial refund corrects the amount, it reopens no debt.
    assert 'data-testid="payment-paid"' in page_of(signed_in(world.owner), application)
    assert Payment.objects.filter(pk=payment.pk).exists()


def test_a_paid_assessment_stays_the_applications_past_its_validity_and_approval_passes(world):
    application = cleared(world)
    payment = pay_in_full(application)
    Assessment.objects.update(valid_until=timezone.now() - timedelta(seconds=1))
    FeeRate.objects.filter(code=FeeRate.Code.PLATE_FEE).update(amount_centavos=50000)
    staff = signed_in(world.lto_admin)

    page = page_of(staff, application)

    assert 'data-testid="approval-refusal"' not in page and "₱3,304.00" not in page
    assert Assessment.objects.filter(application=application).count() == 1
    approved = staff.post(reverse("registration-approve", args=[application.pk]), {})
    assert approved.status_code == 302
    application.refresh_from_db()
    assert application.status == ApplicationStatus.APPROVED
    assert application.assessments.get().pk == payment.assessment_id
