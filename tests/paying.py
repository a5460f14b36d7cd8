"""Paying an application's fees in the sandbox, as the applicant does from its page: the
same services the Pay button and the sandbox checkout's Pay call (nothing is mocked)."""

from __future__ import annotations

from payments import assessment, payment_services
from payments.models import Payment
from payments.payment_selectors import fees_standing
from payments.payment_tasks import deliver_sandbox_callback
from registry.models import RegistrationApplication


def pay_in_full(application: RegistrationApplication) -> Payment:
    """The applicant pays the current assessment; the sandbox's signed callback settles it
    (delivered here in-process: the task the sandbox's Pay button sends). Already paid in
    full, the payment that paid it."""
    standing = fees_standing(application, assessment.assess(application))
    if standing.paid is not None and standing.due_centavos == 0:
        return standing.paid
    payment, _ = payment_services.application_payment_start(
        payer=application.applicant, application_id=application.pk
    )
    outcome = deliver_sandbox_callback(payment.provider_checkout_id)
    assert outcome == "applied", outcome
    payment.refresh_from_db()
    return payment
