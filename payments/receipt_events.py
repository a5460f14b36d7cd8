"""The notifications official receipts raise; the issued one's e-mail carries the OR's PDF."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.utils.translation import gettext_lazy as _

from notifications.events import Attachment, NotificationEvent, register
from organisations.roles import Role

if TYPE_CHECKING:
    from notifications.models import Notification


def receipt_attachment(notification: Notification) -> list[Attachment]:
    """The receipt's PDF, rendered when the e-mail is sent (each retry renders it again from
    the receipt's own rows, which never change, except to say VOID once voided)."""
    from payments.models import OfficialReceipt
    from payments.receipt_pdf import render_receipt

    receipt = (
        OfficialReceipt.objects.select_related("office", "payment", "cashier")
        .prefetch_related("items")
        .filter(emailed_as=notification)
        .first()
    )
    if receipt is None:
        return []
    return [
        Attachment(
            f"official-receipt-{receipt.number}.pdf", render_receipt(receipt), "application/pdf"
        )
    ]


OFFICIAL_RECEIPT_ISSUED = register(
    NotificationEvent(
        "official_receipt_issued",
        label=_("Official receipt for your payment"),
        audience={Role.OWNER},
        attachments=receipt_attachment,
    )
)
OFFICIAL_RECEIPT_VOIDED = register(
    NotificationEvent(
        "official_receipt_voided", label=_("Official receipt voided"), audience={Role.OWNER}
    )
)
