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
from django.utils.translation import gettext as _
from reportlab.lib.pagesizes import A5
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfgen import canvas

from kernel.i18n import manila_time
from kernel.pdf import pdf_fonts
from payments.models import OfficialReceipt

AGENCY = "Land Transportation Office"


def _local(moment: datetime) -> str:
    # Manila time, with its zone named as the receipt has always shown it (PST).
    return f"{manila_time(moment, long=True)} {timezone.localtime(moment):%Z}"


def render_receipt(
    receipt: OfficialReceipt,
    *,
    reprint_number: int | None = None,
    reprinted_at: datetime | None = None,
) -> bytes:
    """The receipt's PDF in the active language; ``reprint_number`` (1 for the first reprint)
    marks it a reprint. Labels are translated; the agency's name stays as the law writes it."""
    fonts = pdf_fonts()
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A5)
    pdf.setTitle(_("Official Receipt %(number)s") % {"number": receipt.number})
    width, height = A5
    left, right = 12 * mm, width - 12 * mm
    y = height - 16 * mm
    pdf.setFont(fonts.bold, 10)
    pdf.drawString(left, y, _("Republic of the Philippines"))
    y -= 5 * mm
    pdf.drawString(left, y, AGENCY)
    y -= 5 * mm
    pdf.setFont(fonts.regular, 9)
    pdf.drawString(
        left,
        y,
        _("%(office)s (office code %(code)s)")
        % {"office": receipt.office.name, "code": receipt.office.code},
    )
    y -= 9 * mm
    pdf.setFont(fonts.bold, 15)
    pdf.drawString(left, y, _("OFFICIAL RECEIPT"))
    pdf.setFont(fonts.bold, 11)
    pdf.drawRightString(right, y, _("No. %(number)s") % {"number": receipt.number})
    y -= 8 * mm
    rows = [
        (_("Date and time"), _local(receipt.issued_at)),
        (_("Payer"), receipt.payer_name),
        (
            _("Order of payment"),
            _("Application %(reference)s") % {"reference": receipt.application_reference},
        ),
        (_("Mode of payment"), receipt.mode_of_payment),
        (
            _("Transaction no."),
            f"{receipt.payment.reference} / {receipt.gateway_reference}"
            if receipt.gateway_reference
            else receipt.payment.reference,
        ),
    ]
    if receipt.cashier is not None:
        rows.append(
            (_("Cashier"), receipt.cashier.get_full_name() or receipt.cashier.get_username())
        )
    for label, value in rows:
        pdf.setFont(fonts.bold, 9)
        pdf.drawString(left, y, label)
        pdf.setFont(fonts.regular, 9)
        pdf.drawString(left + 34 * mm, y, value[:70])
        y -= 5.5 * mm
    y -= 3 * mm
    pdf.setFont(fonts.bold, 9)
    pdf.drawString(left, y, _("Nature of collection"))
    pdf.drawRightString(right, y, _("Amount"))
    y -= 2 * mm
    pdf.line(left, y, right, y)
    y -= 5 * mm
    for item in receipt.items.all():
        pdf.setFont(fonts.regular, 8.5)
        pdf.drawRightString(right, y, fonts.amount(item.amount_centavos))
        lines = simpleSplit(item.label, fonts.regular, 8.5, right - left - 30 * mm)
        for number, line in enumerate(lines):
            if number:
                y -= 4 * mm
            pdf.drawString(left, y, line)
        if not item.confirmed:
            y -= 4 * mm
            pdf.setFont(fonts.oblique, 7.5)
            pdf.drawString(
                left + 3 * mm, y, _("UNCONFIRMED: this rate could not be confirmed as official.")
            )
        y -= 5.5 * mm
    pdf.line(left, y + 3 * mm, right, y + 3 * mm)
    pdf.setFont(fonts.bold, 10)
    pdf.drawString(left, y - 2 * mm, _("TOTAL"))
    pdf.drawRightString(right, y - 2 * mm, fonts.amount(receipt.total_centavos))
    y -= 12 * mm
    pdf.setFont(fonts.regular, 7.5)
    if receipt.has_unconfirmed:
        pdf.drawString(
            left,
            y,
            _("Lines marked UNCONFIRMED are not official LTO rates: the LTO confirms them."),
        )
        y -= 4 * mm
    pdf.drawString(left, y, _("Electronic official receipt issued through Talaan."))
    if reprint_number is not None:
        pdf.setFont(fonts.bold, 10)
        when = _local(reprinted_at or timezone.now())
        pdf.drawString(
            left,
            14 * mm,
            _("REPRINT no. %(number)s, printed %(when)s")
            % {"number": reprint_number, "when": when},
        )
    if receipt.voided_at is not None:
        reason = simpleSplit(
            _("Reason: %(reason)s") % {"reason": receipt.void_reason},
            fonts.regular,
            8.5,
            right - left,
        )
        top = 22 * mm + 4 * mm * min(len(reason), 6)
        pdf.setFont(fonts.bold, 10)
        pdf.drawString(left, top, _("VOID since %(when)s") % {"when": _local(receipt.voided_at)})
        pdf.setFont(fonts.regular, 8.5)
        for number, line in enumerate(reason[:6]):
            pdf.drawString(left, top - (number + 1) * 4 * mm, line)
        pdf.saveState()
        pdf.setFont(fonts.bold, 72)
        pdf.setFillGray(0.6, 0.5)
        pdf.translate(width / 2, height / 2)
        pdf.rotate(35)
        pdf.drawCentredString(0, 0, _("VOID"))
        pdf.restoreState()
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()
