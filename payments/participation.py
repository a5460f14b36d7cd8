"""Payments' part in an application's life, registered with registry at start-up: the owner
and LTO staff see the application's fee assessment and its payments on its page, the owner
pays from there, and the LTO's approval waits until the fees are paid in full."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db.models import Exists, Prefetch, Q

from organisations.access import Caller
from payments import assessment, payment_services
from payments.models import Assessment, OfficialReceipt
from payments.payment_forms import RefundForm
from payments.payment_selectors import fees_standing, payments_of
from registry.models import RegistrationApplication
from registry.participants import PagePart

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def may_see_assessment(caller: Caller, application: RegistrationApplication) -> bool:
    """Fees are the owner's and the LTO's business, not the clearing organisations'."""
    return caller.is_lto_staff or application.applicant_id == caller.user_id


class PaymentsParticipant:
    """Takes part only in the page; it holds no work that blocks or follows an application."""

    def application_prefetches(self) -> list[Prefetch]:
        return []

    def history_prefetches(self) -> list[Prefetch]:
        return []

    def latest_changes(self, applications: Iterable[RegistrationApplication]) -> list[Any]:
        return []

    def overdue(self, now: datetime) -> Exists:
        return Exists(Assessment.objects.none())

    def application_page(self, *, caller: Caller, application: RegistrationApplication) -> PagePart:
        if not may_see_assessment(caller, application):
            return PagePart(context={})
        current = assessment.assess(application)
        standing = fees_standing(application, current)
        is_applicant = application.applicant_id == caller.user_id and caller.api_key is None
        return PagePart(
            context={
                "assessment": current,
                "assessment_shown": True,
                "assessment_closed": application.status in RegistrationApplication.FINISHED,
                # Who may see the fees sees the receipts: the payer's own, or all (LTO staff).
                "official_receipts": OfficialReceipt.objects.filter(
                    application=application
                ).order_by("issued_at", "pk"),
                "fees": standing,
                "may_pay": is_applicant and standing.can_pay,
                # LTO staff see every payment with its refunds, and refund a paid one.
                "payments": list(payments_of(application.pk)) if caller.is_lto_staff else [],
                "refund_form": RefundForm() if caller.is_lto_staff else None,
            }
        )

    def statuses(self, *, caller: Caller, application: RegistrationApplication) -> list[Any]:
        return []

    def status_version(self, *, caller: Caller) -> dict[str, Any]:
        return {}

    def applications_visible_to(self, organisation_ids: list[int]) -> Q:
        return Q(pk__in=[])

    def people_concerned(self, application_id: int) -> set[int]:
        return set()

    def has_live_work(self, application: RegistrationApplication) -> bool:
        return False

    def application_resubmitted(self, *, application: RegistrationApplication, actor: User) -> None:
        pass

    def application_closed(
        self, *, application: RegistrationApplication, actor: User, reason: str
    ) -> None:
        pass

    def approval_refusal(self, application: RegistrationApplication) -> str | None:
        return payment_services.approval_refusal(application)
