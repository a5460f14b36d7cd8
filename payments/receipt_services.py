"""Official receipts: issued with the payment's PAID status, reprinted, voided.

``receipt_issue`` runs inside the transaction that marks a payment paid (``payment_services``):
the number is taken from the office's ``ReceiptSequence`` under a row lock, so the series is
gapless and never reused (see the model). The certificate of registration has its own
numbers (``registry``): an OR number names money received, a CR number a registration."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kernel.errors import Conflict, DomainError, PermissionDenied
from kernel.i18n import Message, manila_date, pesos
from notifications.services import notify
from organisations.access import Action, Caller
from organisations.models import Office
from payments.models import (
    Assessment,
    OfficialReceipt,
    Payment,
    ReceiptHistory,
    ReceiptItem,
    ReceiptSequence,
    receipt_number,
)
from payments.receipt_access import receipt_allowed_actions, receipt_get_for
from payments.receipt_events import OFFICIAL_RECEIPT_ISSUED, OFFICIAL_RECEIPT_VOIDED
from registry.models import RegistrationApplication, default_office_id

if TYPE_CHECKING:
    from django.contrib.auth.models import User

logger = logging.getLogger(__name__)

MODES = {"sandbox": "Online (sandbox gateway, not real money)", "paymongo": "Online (PayMongo)"}


class ReceiptRefused(DomainError):
    code = "receipt_refused"
    http_status = 422
    default_message = "This receipt cannot be changed so."


class VoidReasonMissing(ReceiptRefused):
    fields = {"reason": ["Say why the receipt is voided."]}


class ReceiptAlreadyVoid(Conflict):
    code = "receipt_already_void"
    retryable = False
    default_message = "This receipt is already void."


class NoOfficeToNumberReceipts(DomainError):
    """No LTO office exists to number the receipt: a set-up error; the provider retries."""

    code = "no_receipt_office"
    http_status = 503
    retryable = True
    default_message = "No LTO office is set up to number official receipts."


def _name_of(user: User) -> str:
    return user.get_full_name() or user.get_username()


def _take_serial(office: Office) -> int:
    """The office's next serial, its sequence row locked until the caller's transaction ends."""
    sequence, _created = ReceiptSequence.objects.select_for_update().get_or_create(office=office)
    serial = sequence.next_serial
    sequence.next_serial = serial + 1
    sequence.save(update_fields=["next_serial", "updated_at"])
    return serial


def _lines(payment: Payment, application: RegistrationApplication) -> list[ReceiptItem]:
    """The assessment's items as they are now (the snapshot), when the assessment is the
    application's and adds up to what was paid; else one line for the amount received (a
    receipt states what was collected, whatever the assessment says)."""
    assessment = (
        Assessment.objects.filter(pk=payment.assessment_id, application_id=application.pk)
        .prefetch_related("items")
        .first()
    )
    if assessment is not None and assessment.total_centavos == payment.amount_centavos:
        return [
            ReceiptItem(
                position=item.position,
                code=item.code,
                label=item.label,
                amount_centavos=item.amount_centavos,
                confirmed=item.confirmed,
            )
            for item in assessment.items.all()
        ]
    return [
        ReceiptItem(
            position=0,
            code="payment",
            label=f"Fees paid for application {application.reference} (not itemised)",
            amount_centavos=payment.amount_centavos,
            confirmed=False,
        )
    ]


@transaction.atomic
def receipt_issue(*, payment: Payment, cashier: User | None = None) -> OfficialReceipt:
    """Issue the OR of a payment just marked paid, in the caller's transaction; the payer is
    e-mailed its PDF after commit. A payment that has one already gets it back."""
    existing = OfficialReceipt.objects.filter(payment=payment).first()
    if existing is not None:
        return existing
    if payment.status != Payment.Status.PAID:
        raise ReceiptRefused(_("Only a paid payment gets an official receipt."))
    application = RegistrationApplication.objects.select_related("office").get(
        pk=payment.application_id
    )
    office = application.office
    if office is None:
        # Filed before offices existed: the office every application now defaults to.
        fallback = default_office_id()
        office = Office.objects.filter(pk=fallback).first() if fallback else None
        if office is None:
            raise NoOfficeToNumberReceipts()
    serial = _take_serial(office)
    now = timezone.now()
    receipt = OfficialReceipt.objects.create(
        office=office,
        serial=serial,
        number=receipt_number(office.code, serial),
        issued_at=now,
        payment=payment,
        payer=payment.payer,
        payer_name=_name_of(payment.payer),
        application=application,
        application_reference=application.reference,
        assessment_id=payment.assessment_id,
        total_centavos=payment.amount_centavos,
        mode_of_payment="Cash (at the office)" if cashier else MODES.get(payment.provider, ""),
        gateway_reference=payment.provider_payment_id or payment.provider_checkout_id,
        cashier=cashier,
    )
    items = _lines(payment, application)
    for item in items:
        item.receipt = receipt
    ReceiptItem.objects.bulk_create(items)
    ReceiptHistory.objects.create(
        receipt=receipt, kind=ReceiptHistory.Kind.ISSUED, actor=cashier, at=now
    )
    told = notify(
        recipients=[payment.payer],
        event=OFFICIAL_RECEIPT_ISSUED,
        title=Message(
            pgettext_lazy("sms", "Official receipt %(number)s"), {"number": receipt.number}
        ),
        body=Message(
            _(
                "We received %(amount)s for application %(reference)s. Your official receipt "
                "%(number)s is attached."
            ),
            {
                "amount": pesos(receipt.total_centavos),
                "reference": application.reference,
                "number": receipt.number,
            },
        ),
        link=reverse("receipt-detail", args=[receipt.number]),
        dedupe_key=f"official-receipt:{receipt.pk}",
    )
    if told:
        receipt.emailed_as = told[0]
        receipt.save(update_fields=["emailed_as", "updated_at"])
    return receipt


@transaction.atomic(durable=True)
def receipt_void(*, staff: User, number: str, reason: str) -> OfficialReceipt:
    """LTO staff void a receipt: its number stays in the series, marked void with the reason
    and who voided it; nothing is deleted. The payment is untouched (money goes back only
    through a refund)."""
    caller = Caller(staff)
    if not caller.is_lto_staff:
        raise PermissionDenied(_("Only LTO staff can void an official receipt."))
    receipt = receipt_get_for(caller, number)
    receipt = OfficialReceipt.objects.select_for_update().get(pk=receipt.pk)
    if receipt.is_void:
        raise ReceiptAlreadyVoid(
            Message(
                _("Receipt %(number)s was voided on %(date)s; nothing was changed."),
                {
                    "number": receipt.number,
                    "date": manila_date(receipt.voided_at or timezone.now()),
                },
            )
        )
    if Action.VOID_RECEIPT not in receipt_allowed_actions(caller, receipt):
        raise PermissionDenied(_("Only LTO staff can void an official receipt."))
    reason = reason.strip()
    if not reason:
        raise VoidReasonMissing(_("Say why the receipt is voided: a reason is required."))
    if len(reason) > 1000:
        raise ReceiptRefused(_("Keep the reason to 1,000 characters."))
    now = timezone.now()
    receipt.voided_at = now
    receipt.void_reason = reason
    receipt.voided_by = staff
    receipt.save(update_fields=["voided_at", "void_reason", "voided_by", "updated_at"])
    ReceiptHistory.objects.create(
        receipt=receipt, kind=ReceiptHistory.Kind.VOIDED, actor=staff, at=now, note=reason
    )
    notify(
        recipients=[receipt.payer],
        event=OFFICIAL_RECEIPT_VOIDED,
        title=Message(
            pgettext_lazy("sms", "Official receipt %(number)s voided"), {"number": receipt.number}
        ),
        body=Message(
            _("The LTO voided your official receipt %(number)s: %(reason)s"),
            {"number": receipt.number, "reason": reason},
        ),
        link=reverse("receipt-detail", args=[receipt.number]),
    )
    logger.info("Receipt %s voided by user %s", receipt.number, staff.pk)
    return receipt


@transaction.atomic(durable=True)
def receipt_reprint(*, user: User, number: str) -> tuple[OfficialReceipt, ReceiptHistory, int]:
    """Record a reprint by the payer or LTO staff; returns the receipt, the reprint's history
    row and its number (1 for the first). The receipt's row is locked so that two reprints at
    once get two numbers."""
    caller = Caller(user)
    receipt = receipt_get_for(caller, number)
    if Action.REPRINT_RECEIPT not in receipt_allowed_actions(caller, receipt):
        raise PermissionDenied(_("Only the payer and LTO staff reprint a receipt."))
    OfficialReceipt.objects.select_for_update().filter(pk=receipt.pk).first()
    entry = ReceiptHistory.objects.create(
        receipt=receipt, kind=ReceiptHistory.Kind.REPRINTED, actor=user, at=timezone.now()
    )
    count = receipt.history.filter(kind=ReceiptHistory.Kind.REPRINTED).count()
    return receipt, entry, count
