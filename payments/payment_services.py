"""Every state change of a payment, one function each: start, callback, expire, refund.

The applicant pays the application's current assessment (``application_payment_start``: the
amount is always the server's own); the LTO's approval asks ``approval_refusal`` whether it is
paid in full. A payment marked paid gets its official receipt in the same
transaction (receipt_services)."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Mapping
from datetime import timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from chaincode.rules import ApplicationStatus
from kernel.errors import Conflict, DomainError, PermissionDenied
from kernel.i18n import Message
from organisations.access import Caller
from payments import assessment
from payments.fees import pesos
from payments.gateways import configured_gateway, gateway_for
from payments.gateways.base import (
    CURRENCY,
    PAID_EVENTS,
    CallbackEvent,
    Payable,
)
from payments.models import Payment, PaymentEvent, Refund
from payments.payment_selectors import PAYABLE_STATUSES, fees_standing
from payments.receipt_services import receipt_issue
from registry.models import RegistrationApplication

if TYPE_CHECKING:
    from django.contrib.auth.models import User

logger = logging.getLogger(__name__)


class PaymentRefused(DomainError):
    code = "payment_refused"
    http_status = 422
    default_message = "This payment cannot be made."


class AlreadyPaid(Conflict):
    code = "already_paid"
    retryable = False
    default_message = "This assessment is already paid."


class NotPayable(Conflict):
    code = "not_payable"
    retryable = False
    default_message = "This application cannot be paid now."


def _not_payable_message(application: RegistrationApplication) -> str:
    status = application.status
    if status == ApplicationStatus.DRAFT:
        return "Submit the application first: its fees are paid once the LTO has it."
    if status == ApplicationStatus.RETURNED:
        return "The application was returned to you: resubmit it, then pay its fees."
    return f"The application is {application.get_status_display().lower()}: nothing is paid now."


def application_payment_start(
    *,
    payer: User,
    application_id: int,
    expected_amount_centavos: int | None = None,
    base_url: str = "",
) -> tuple[Payment, bool]:
    """The applicant pays the application's current assessment: return the payment (its
    ``redirect_url`` is the checkout) and whether it was opened now (False: the checkout
    already open is handed back).

    The amount is the assessment's total, never the caller's: an assessment past its
    validity is made again first, and ``expected_amount_centavos`` (what the payer was shown)
    must match it or nothing is opened (422)."""
    if expected_amount_centavos is not None and (
        not isinstance(expected_amount_centavos, int) or isinstance(expected_amount_centavos, bool)
    ):
        raise PaymentRefused(_("The amount must be a whole number of centavos."))
    with transaction.atomic():
        # Locked so that two clicks at once make one assessment, not two.
        application = (
            RegistrationApplication.objects.select_for_update().filter(pk=application_id).first()
        )
        if application is None or application.applicant_id != payer.pk:
            raise PermissionDenied(_("Only the applicant can pay for this application."))
        if application.status not in PAYABLE_STATUSES:
            raise NotPayable(_not_payable_message(application))
        current = assessment.assess(application)
        if current is None:
            raise NotPayable(
                _("No fee schedule is in force today: the LTO assesses the fees at the office.")
            )
        standing = fees_standing(application, current)
        if standing.paid is not None and standing.due_centavos == 0:
            raise AlreadyPaid()
        if current.total_centavos == 0:
            raise NotPayable(_("Nothing is due for this application."))
        if (
            expected_amount_centavos is not None
            and expected_amount_centavos != current.total_centavos
        ):
            raise PaymentRefused(
                Message(
                    _(
                        "The amount due is %(pesos)s (%(total_centavos)s centavos), not "
                        "%(expected_amount_centavos)s centavos. The fees may have been "
                        "assessed again: review them and pay the amount due."
                    ),
                    {
                        "pesos": pesos(current.total_centavos),
                        "total_centavos": current.total_centavos,
                        "expected_amount_centavos": expected_amount_centavos,
                    },
                )
            )
        # A checkout for an older assessment (its validity ran out meanwhile) is closed here
        # only once its own time is up: closed while the provider still takes payment, a
        # payer finishing it in another tab would be charged for a payment recorded late.
        for stale in Payment.objects.filter(
            application_id=application.pk, status=Payment.Status.PENDING
        ).exclude(assessment_id=current.pk):
            if stale.expires_at > timezone.now():
                closes = timezone.localtime(stale.expires_at).strftime("%H:%M")
                raise Conflict(
                    Message(
                        _(
                            "A checkout for the earlier assessment is still open until "
                            "%(closes)s: finish it there, or pay the new amount once it has "
                            "closed."
                        ),
                        {"closes": closes},
                    )
                )
            _expire(stale)
    return _checkout_open(
        payer=payer,
        application=application,
        assessment_id=current.pk,
        amount_centavos=current.total_centavos,
        base_url=base_url,
    )


def payment_start(
    *,
    payer: User,
    application_id: int,
    assessment_id: int,
    amount_centavos: int,
    base_url: str = "",
) -> str:
    """Open a checkout for exactly this assessment and amount and return where to send the
    payer. Pages and the API use ``application_payment_start``, which takes both from the
    server's assessment; this is the gateway-level step under it."""
    if not isinstance(amount_centavos, int) or isinstance(amount_centavos, bool):
        raise PaymentRefused(_("The amount must be a whole number of centavos."))
    if amount_centavos <= 0:
        raise PaymentRefused(_("The amount must be more than zero."))
    application = RegistrationApplication.objects.filter(pk=application_id).first()
    if application is None or application.applicant_id != payer.pk:
        raise PermissionDenied(_("Only the applicant can pay for this application."))
    payment, _checkout = _checkout_open(
        payer=payer,
        application=application,
        assessment_id=assessment_id,
        amount_centavos=amount_centavos,
        base_url=base_url,
    )
    return payment.redirect_url


def _checkout_open(
    *,
    payer: User,
    application: RegistrationApplication,
    assessment_id: int,
    amount_centavos: int,
    base_url: str,
) -> tuple[Payment, bool]:
    """The open checkout for the assessment, or a new one.

    A payer who clicks twice gets the same open checkout back (PayMongo documents no
    idempotency key, so we guard retries ourselves: one holding payment per assessment)."""
    holding = Payment.objects.filter(assessment_id=assessment_id, status__in=Payment.HOLDING)
    existing = holding.first()
    if existing is not None:
        if existing.status != Payment.Status.PENDING:
            raise AlreadyPaid()
        if existing.expires_at > timezone.now():
            if existing.redirect_url:
                return existing, False
            # Its checkout is still being opened (the provider has not answered yet).
            raise Conflict(_("A payment for this assessment has just started. Try again shortly."))
        _expire(existing)
    gateway = configured_gateway()
    try:
        payment = Payment.objects.create(
            application_id=application.pk,
            assessment_id=assessment_id,
            amount_centavos=amount_centavos,
            currency=CURRENCY,
            provider=gateway.name,
            payer=payer,
            # Until the checkout says otherwise: never "expired" while the provider is called.
            expires_at=timezone.now() + timedelta(minutes=settings.PAYMENT_CHECKOUT_MINUTES),
        )
    except IntegrityError:
        raise Conflict(_("A payment for this assessment has just started.")) from None
    done = base_url + reverse("payment-done", args=[payment.reference])
    try:
        checkout = gateway.create_checkout(
            Payable(payment.reference, application.pk, assessment_id),
            amount_centavos,
            CURRENCY,
            success_url=done,
            cancel_url=done,
            description=f"Application {application.reference}",
        )
    except DomainError:
        # The provider refused or failed: the row stays, as failed, and frees the assessment.
        Payment.objects.filter(pk=payment.pk).update(status=Payment.Status.FAILED)
        raise
    Payment.objects.filter(pk=payment.pk).update(
        provider_checkout_id=checkout.id,
        redirect_url=checkout.redirect_url,
        expires_at=checkout.expires_at,
    )
    payment.refresh_from_db()
    return payment, True


def approval_refusal(application: RegistrationApplication) -> str | None:
    """Why the LTO may not approve the (locked) application: its fees not paid in full.

    Nothing to pay (an assessment totalling zero) is nothing to refuse. With no fee schedule
    in force nothing can be assessed, so nothing can be known paid: the approval waits for
    a schedule (added in the admin)."""
    current = assessment.assess(application)
    if current is None:
        return (
            "The fees cannot be assessed (no fee schedule is in force), so the registration "
            "cannot be approved as paid. Add a fee schedule in the admin."
        )
    if transaction.get_connection().in_atomic_block:
        # Inside the approval: a refund recorded at the same moment waits for its decision.
        list(
            Payment.objects.select_for_update()
            .filter(application_id=application.pk, status__in=Payment.SETTLED)
            .values_list("pk", flat=True)
        )
    standing = fees_standing(application, current)
    if standing.due_centavos == 0:
        return None
    due = pesos(standing.due_centavos)
    if standing.due_centavos < current.total_centavos:
        return (
            f"The fees are only partly paid: {due} of {pesos(current.total_centavos)} is still due."
        )
    return f"The fees are not paid: {due} is due. The applicant pays them online first."


def callback_receive(provider: str, headers: Mapping[str, str], raw_body: bytes) -> str:
    """Verify a provider's callback and apply it once; return the outcome.

    Raises InvalidCallback (nothing recorded) unless the signature verifies. A replayed
    event id returns "duplicate" and changes nothing. The rule for late callbacks: a paid
    event for a checkout past its expiry is recorded as "late" and the payment stays
    expired, never paid (LTO staff see the event and refund the payer through the
    provider); the payer starts a new payment."""
    event = gateway_for(provider).parse_callback(headers, raw_body)
    with transaction.atomic():
        if PaymentEvent.objects.filter(provider=provider, event_id=event.event_id).exists():
            return "duplicate"
        payment = (
            Payment.objects.select_for_update()
            .filter(provider=provider, provider_checkout_id=event.checkout_id)
            .first()
            if event.checkout_id
            else None
        )
        outcome = _apply(event, payment)
        try:
            with transaction.atomic():
                PaymentEvent.objects.create(
                    provider=provider,
                    event_id=event.event_id,
                    type=event.type,
                    payment=payment,
                    payload=event.payload,
                    outcome=outcome,
                )
        except IntegrityError:
            # The same event delivered twice at once: the other delivery applies it.
            transaction.set_rollback(True)
            return "duplicate"
    if outcome != PaymentEvent.Outcome.APPLIED:
        logger.warning("Payment callback %s %s refused: %s", provider, event.event_id, outcome)
    return str(outcome)


def _apply(event: CallbackEvent, payment: Payment | None) -> str:
    Outcome = PaymentEvent.Outcome
    if event.type not in PAID_EVENTS:
        return Outcome.IGNORED
    if payment is None:
        return Outcome.UNKNOWN_CHECKOUT
    if payment.status != Payment.Status.PENDING and payment.status != Payment.Status.EXPIRED:
        return Outcome.ALREADY_SETTLED
    if event.currency != payment.currency:
        return Outcome.CURRENCY_MISMATCH
    if event.amount_centavos != payment.amount_centavos:
        return Outcome.AMOUNT_MISMATCH
    if payment.status == Payment.Status.EXPIRED or payment.expires_at <= timezone.now():
        if payment.status == Payment.Status.PENDING:
            _expire(payment)
        return Outcome.LATE
    payment.status = Payment.Status.PAID
    payment.paid_at = timezone.now()
    payment.provider_payment_id = event.payment_id
    payment.save(update_fields=["status", "paid_at", "provider_payment_id", "updated_at"])
    # In the same transaction: the OR number is taken only if the payment is paid for good.
    receipt_issue(payment=payment)
    return Outcome.APPLIED


def _expire(payment: Payment) -> None:
    Payment.objects.filter(pk=payment.pk, status=Payment.Status.PENDING).update(
        status=Payment.Status.EXPIRED, expired_at=timezone.now()
    )
    payment.refresh_from_db()


def payments_expire_abandoned() -> int:
    """Mark pending payments past their checkout's expiry as expired; return how many."""
    return Payment.objects.filter(
        status=Payment.Status.PENDING, expires_at__lte=timezone.now()
    ).update(status=Payment.Status.EXPIRED, expired_at=timezone.now())


def new_refund_reference() -> str:
    return "RF-" + secrets.token_hex(5).upper()


def refund_record(
    *, staff: User, payment_id: int, amount_centavos: int, reason: str, reference: str = ""
) -> Refund:
    """LTO staff give money back: through the provider's refund API, then recorded here.

    The provider call happens inside the row lock so that two staff cannot refund the same
    centavos twice; a provider failure records nothing."""
    if not Caller(staff).is_lto_staff:
        raise PermissionDenied(_("Only LTO staff can record refunds."))
    if not isinstance(amount_centavos, int) or isinstance(amount_centavos, bool):
        raise PaymentRefused(_("The refund must be a whole number of centavos."))
    if amount_centavos <= 0:
        raise PaymentRefused(_("The refund must be more than zero."))
    if not reason.strip():
        raise PaymentRefused(_("A refund needs a reason."))
    # Staff may give the LTO's own reference (a memo number); else the refund gets one.
    reference = reference.strip() or new_refund_reference()
    with transaction.atomic():
        payment = Payment.objects.select_for_update().filter(pk=payment_id).first()
        if payment is None:
            raise PaymentRefused(_("No such payment."))
        if payment.status not in (Payment.Status.PAID, Payment.Status.PARTIALLY_REFUNDED):
            raise PaymentRefused(_("Only a paid payment can be refunded."))
        remaining = payment.amount_centavos - payment.refunded_centavos
        if amount_centavos > remaining:
            raise PaymentRefused(
                Message(
                    _("At most %(pesos)s (%(remaining)s centavos) remains to refund."),
                    {"pesos": pesos(remaining), "remaining": remaining},
                )
            )
        gateway = gateway_for(payment.provider)
        provider_refund_id = ""
        if gateway.supports_refunds:
            result = gateway.refund(payment.provider_payment_id, amount_centavos, reason)
            provider_refund_id = result.provider_refund_id
        refund = Refund.objects.create(
            payment=payment,
            amount_centavos=amount_centavos,
            reason=reason.strip(),
            reference=reference,
            recorded_by=staff,
            provider_refund_id=provider_refund_id,
        )
        payment.status = (
            Payment.Status.REFUNDED
            if amount_centavos == remaining
            else Payment.Status.PARTIALLY_REFUNDED
        )
        payment.save(update_fields=["status", "updated_at"])
    return refund


def sandbox_pay(checkout_id: str) -> Payment:
    """The sandbox's Pay button: the sandbox "provider" sends its signed paid callback.

    Sent through a Celery task (in-process under CELERY_TASK_ALWAYS_EAGER, as in make run)
    that calls the same callback handler the HTTP endpoint uses."""
    from payments.payment_tasks import deliver_sandbox_callback

    payment = Payment.objects.filter(provider="sandbox", provider_checkout_id=checkout_id).first()
    if payment is None:
        raise PaymentRefused(_("No such sandbox checkout."))
    if payment.status != Payment.Status.PENDING or payment.expires_at <= timezone.now():
        raise PaymentRefused(_("This checkout is no longer open."))
    deliver_sandbox_callback.delay(checkout_id)
    payment.refresh_from_db()
    return payment
