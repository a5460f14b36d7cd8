"""Reads of payments: an application's payments, one payment through its access funnel, and
where an application stands with its fees (what the page, the API and the approval gate use).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db.models import Prefetch, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from chaincode.rules import ApplicationStatus
from organisations.access import Caller
from payments.models import Assessment, Payment, Refund
from registry.models import RegistrationApplication

if TYPE_CHECKING:
    from django.contrib.auth.models import User

# The applicant pays once the LTO has the application (submitted) and until it is decided.
# Not a draft: the owner may still change the vehicle, and so the fees. Not while returned:
# the owner may correct the vehicle then too; they pay after resubmitting.
PAYABLE_STATUSES = frozenset(
    {
        ApplicationStatus.SUBMITTED,
        ApplicationStatus.UNDER_REVIEW,
        ApplicationStatus.AWAITING_CLEARANCES,
        ApplicationStatus.CLEARED,
    }
)


def payments_of(application_id: int) -> QuerySet[Payment]:
    """Every payment of the application, newest first, with its refunds (never deleted)."""
    return (
        Payment.objects.filter(application_id=application_id)
        .select_related("payer")
        .prefetch_related(
            Prefetch(
                "refunds",
                queryset=Refund.objects.select_related("recorded_by").order_by("created_at", "id"),
            )
        )
        .order_by("-created_at", "-id")
    )


def payment_get_for_user(*, user: User, reference: str) -> Payment:
    """The payment if the user is its payer or LTO staff; 404 for anyone else."""
    payment = payments_of_reference(reference)
    if payment is None or not (payment.payer_id == user.pk or Caller(user).is_lto_staff):
        raise Http404(_("No such payment."))
    return payment


def payments_of_reference(reference: str) -> Payment | None:
    reference = reference.strip().upper()
    if "\x00" in reference or len(reference) > 16:  # Payment.reference's max_length
        return None  # never a reference (and PostgreSQL cannot compare a NUL)
    return (
        Payment.objects.filter(reference=reference)
        .prefetch_related(
            Prefetch(
                "refunds",
                queryset=Refund.objects.select_related("recorded_by").order_by("created_at", "id"),
            )
        )
        .first()
    )


def is_open(payment: Payment) -> bool:
    return payment.status == Payment.Status.PENDING and payment.expires_at > timezone.now()


@dataclass(frozen=True)
class FeesStanding:
    """Where an application stands with its fees, for one assessment."""

    assessment: Assessment | None
    due_centavos: int  # the assessment's total less what was paid for it
    paid: Payment | None  # the payment that settled it
    in_progress: Payment | None  # an open checkout
    expired: Payment | None  # the latest checkout that expired unpaid (none open or paid)
    payable_now: bool  # the application's status is one in which the applicant pays

    @property
    def can_pay(self) -> bool:
        return (
            self.payable_now
            and self.assessment is not None
            and self.due_centavos > 0
            and self.in_progress is None
        )


def fees_standing(
    application: RegistrationApplication, assessment: Assessment | None
) -> FeesStanding:
    payments = list(Payment.objects.filter(application_id=application.pk).order_by("-id"))
    paid = next((p for p in payments if p.status in Payment.SETTLED), None)
    in_progress = next((p for p in payments if is_open(p)), None)
    expired = None
    if paid is None and in_progress is None:
        expired = next(
            (p for p in payments if p.status in (Payment.Status.PENDING, Payment.Status.EXPIRED)),
            None,
        )
    due = 0
    if assessment is not None:
        settled = sum(
            p.amount_centavos
            for p in payments
            if p.assessment_id == assessment.pk and p.status in Payment.SETTLED
        )
        due = max(0, assessment.total_centavos - settled)
    return FeesStanding(
        assessment=assessment,
        due_centavos=due,
        paid=paid,
        in_progress=in_progress,
        expired=expired,
        payable_now=application.status in PAYABLE_STATUSES,
    )
