"""The official receipt as a PDF (reportlab, as the certificate of registration).

It carries what COA Circular 2013-007 lists for an electronic OR: the agency, the office and
its code, the OR number, the date and time, the payer, the nature of collection line by line
with amounts, the total, the mode of payment, the transaction number (the gateway's
reference, or the cashier) and the order of payment (the application). A fee whose rate
could not be confirmed as official is marked UNCONFIRMED on its line; a reprint says REPRINT
with its number and date; a void receipt says VOID with the reason."""

from __future__ import annotations

import io
from datetime import datetime

from django.utils import timezone
from reportlab.lib.pagesizes import A5
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfgen import canvas

from payments.models import OfficialReceipt

AGENCY = "Land Transportation Office"


def pesos_text(centavos: int) -> str:
    """PHP 1,600.00 from 160000 (the standard PDF fonts have no peso sign)."""
    return f"PHP {centavos // 100:,}.{centavos % 100:02d}"


def _local(moment: datetime) -> str:
    return f"{timezone.localtime(moment):%d %B %Y %H:%M %Z}"


def render_receipt(
    receipt: OfficialReceipt,
    *,
    reprint_number: int | None = None,
    reprinted_at: datetime | None = None,
) -> bytes:
    """The receipt's PDF; ``reprint_number`` (1 for the first reprint) marks it a reprint."""
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A5)
    pdf.setTitle(f"Official Receipt {receipt.number}")
    width, height = A5
    left, right = 12 * mm, width - 12 * mm
    y = height - 16 * mm
    pdf.setFont("Helvetica-Bold", 10)
    pdf.drawString(left, y, "Republic of the Philippines")
    y -= 5 * mm
    pdf.drawString(left, y, AGENCY)
    y -= 5 * mm
    pdf.setFont("Helvetica", 9)
    pdf.drawString(left, y, f"{receipt.office.name} (office code {receipt.office.code})")
    y -= 9 * mm
    pdf.setFont("Helvetica-Bold", 15)
    pdf.drawString(left, y, "OFFICIAL RECEIPT")
    pdf.setFont("Helvetica-Bold", 11)
    pdf.drawRightString(right, y, f"No. {receipt.number}")
    y -= 8 * mm
    rows = [
        ("Date and time", _local(receipt.issued_at)),
        ("Payer", receipt.payer_name),
        ("Order of payment", f"Application {receipt.application_reference}"),
        ("Mode of payment", receipt.mode_of_payment),
        (
            "Transaction no.",
            f"{receipt.payment.reference} / {receipt.gateway_reference}"
            if receipt.gateway_reference
            else receipt.payment.reference,
        ),
    ]
    if receipt.cashier is not None:
        rows.append(("Cashier", receipt.cashier.get_full_name() or receipt.cashier.get_username()))
    for label, value in rows:
        pdf.setFont("Helvetica-Bold", 9)
        pdf.drawString(left, y, label)
        pdf.setFont("Helvetica", 9)
        pdf.drawString(left + 34 * mm, y, value[:70])
        y -= 5.5 * mm
    y -= 3 * mm
    pdf.setFont("Helvetica-Bold", 9)
    pdf.drawString(left, y, "Nature of collection")
    pdf.drawRightString(right, y, "Amount")
    y -= 2 * mm
    pdf.line(left, y, right, y)
    y -= 5 * mm
    for item in receipt.items.all():
        pdf.setFont("Helvetica", 8.5)
        pdf.drawRightString(right, y, pesos_text(item.amount_centavos))
        lines = simpleSplit(item.label, "Helvetica", 8.5, right - left - 30 * mm)
        for number, line in enumerate(lines):
            if number:
                y -= 4 * mm
            pdf.drawString(left, y, line)
        if not item.confirmed:
            y -= 4 * mm
            pdf.setFont("Helvetica-Oblique", 7.5)
            pdf.drawString(
                left + 3 * mm, y, "UNCONFIRMED: this rate could not be confirmed as official."
            )
        y -= 5.5 * mm
    pdf.line(left, y + 3 * mm, right, y + 3 * mm)
    pdf.setFont("Helvetica-Bold", 10)
    pdf.drawString(left, y - 2 * mm, "TOTAL")
    pdf.drawRightString(right, y - 2 * mm, pesos_text(receipt.total_centavos))
    y -= 12 * mm
    pdf.setFont("Helvetica", 7.5)
    if receipt.has_unconfirmed:
        pdf.drawString(
            left, y, "Lines marked UNCONFIRMED are not official LTO rates: the LTO confirms them."
        )
        y -= 4 * mm
    pdf.drawString(left, y, "Electronic official receipt issued through Talaan.")
    if reprint_number is not None:
        pdf.setFont("Helvetica-Bold", 10)
        when = _local(reprinted_at or timezone.now())
        pdf.drawString(left, 14 * mm, f"REPRINT no. {reprint_number}, printed {when}")
    if receipt.voided_at is not None:
        reason = simpleSplit(f"Reason: {receipt.void_reason}", "Helvetica", 8.5, right - left)
        top = 22 * mm + 4 * mm * min(len(reason), 6)
        pdf.setFont("Helvetica-Bold", 10)
        pdf.drawString(left, top, f"VOID since {_local(receipt.voided_at)}")
        pdf.setFont("Helvetica", 8.5)
        for number, line in enumerate(reason[:6]):
            pdf.drawString(left, top - (number + 1) * 4 * mm, line)
        pdf.saveState()
        pdf.setFont("Helvetica-Bold", 72)
        pdf.setFillGray(0.6, 0.5)
        pdf.translate(width / 2, height / 2)
        pdf.rotate(35)
        pdf.drawCentredString(0, 0, "VOID")
        pdf.restoreState()
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()
