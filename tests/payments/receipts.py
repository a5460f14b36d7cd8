"""Paying an application the way a payer does (the sandbox checkout and its signed callback),
for the official receipt tests."""

from __future__ import annotations

import importlib

from django.apps import apps as django_apps

from payments import assessment, payment_services
from payments.models import FeeSchedule, OfficialReceipt, Payment
from payments.payment_tasks import deliver_sandbox_callback
from registry.models import RegistrationApplication, Vehicle
from tests.conftest import draft_application


def ensure_fee_schedule() -> None:
    """The schedule payments' migration seeds (a transactional test's flush removes it)."""
    if not FeeSchedule.objects.exists():
        importlib.import_module("payments.migrations.0001_fees").seed_schedule(django_apps, None)


def assessed_application(world, *, owner=None) -> RegistrationApplication:
    """A draft for a 1,450 kg car (MVUC ₱1,600), assessed from the seeded schedule."""
    ensure_fee_schedule()
    application = draft_application(world, owner=owner)
    Vehicle.objects.filter(pk=application.vehicle_id).update(gvw_kg=1450)
    application.refresh_from_db()
    return application


def start_payment(application: RegistrationApplication) -> Payment:
    current = assessment.assess(application)
    assert current is not None
    payment_services.payment_start(
        payer=application.applicant,
        application_id=application.pk,
        assessment_id=current.pk,
        amount_centavos=current.total_centavos,
    )
    return Payment.objects.get(assessment_id=current.pk, status="pending")


def pay(application: RegistrationApplication) -> OfficialReceipt:
    """Start a checkout and let the sandbox send its signed paid callback; the receipt."""
    payment = start_payment(application)
    assert deliver_sandbox_callback(payment.provider_checkout_id) == "applied"
    return OfficialReceipt.objects.get(payment=payment)
