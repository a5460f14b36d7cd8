"""The registration certificate (PDF with a QR code) and the public verification page."""

from __future__ import annotations

import io

import qrcode
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from qrcode.image.pil import PilImage
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader, simpleSplit
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen import canvas

from chaincode.rules import ApplicationStatus
from kernel.auth import AuthenticatedHttpRequest
from organisations.access import Action, Caller
from registry import access
from registry.models import ApplicationStatusChange, OwnerProfile, RegistrationApplication
from registry.mortgages import active_mortgage
from registry.selectors import application_get_for_user


def registration_change(application: RegistrationApplication) -> ApplicationStatusChange | None:
    return (
        application.status_changes.filter(to_status=ApplicationStatus.APPROVED)
        .exclude(ledger_tx_id="")
        .last()
    )


@login_required
def download(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    application = application_get_for_user(user=request.user, pk=pk)
    # The certificate is the owner's (and the LTO's); officers who cleared the vehicle don't
    # get it.
    if Action.DOWNLOAD_CERTIFICATE not in access.permitted_actions(Caller.of(request), application):
        raise Http404(_("No certificate for you here."))
    if not access.is_open(Action.DOWNLOAD_CERTIFICATE, application):
        raise Http404(_("The certificate exists once the registration is approved."))
    verify_url = request.build_absolute_uri(reverse("verify", args=[application.reference]))
    pdf = render_certificate(application, verify_url)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = (
        f'attachment; filename="certificate-{application.reference}.pdf"'
    )
    return response


# The page's frame: A4 with a 12 mm margin, the QR code in the right column.
_MARGIN = 12 * mm
_LABEL_W = 42 * mm
_QR_SIZE = 42 * mm


class _Sheet:
    """Draws the certificate top to bottom: ``y`` is where the next line goes."""

    def __init__(self, pdf: canvas.Canvas) -> None:
        self.pdf = pdf
        self.width, self.height = A4
        self.left = _MARGIN + 6 * mm
        self.right = self.width - _MARGIN - 6 * mm
        self.y = self.height - _MARGIN - 10 * mm

    def centred(self, text: str, font: str, size: float, gap: float) -> None:
        self.pdf.setFont(font, size)
        self.pdf.drawCentredString(self.width / 2, self.y, text)
        self.y -= gap

    def section(self, title: str) -> None:
        self.y -= 3 * mm
        self.pdf.setFillColorRGB(0.89, 0.92, 0.96)
        self.pdf.rect(self.left, self.y - 1.8 * mm, self.right - self.left, 6.5 * mm, 0, 1)
        self.pdf.setFillColorRGB(0.04, 0.18, 0.33)
        self.pdf.setFont("Helvetica-Bold", 10)
        self.pdf.drawString(self.left + 2 * mm, self.y, title.upper())
        self.pdf.setFillColorRGB(0, 0, 0)
        self.y -= 8 * mm

    def row(
        self, label: str, value: str, *, mono: bool = False, right: float | None = None
    ) -> None:
        """A label and its value; a long value (a hash, a URL) wraps, never runs off."""
        font, size = ("Courier", 9) if mono else ("Helvetica", 10)
        width = (right or self.right) - (self.left + _LABEL_W)
        lines = _wrap(value or "\N{EM DASH}", font, size, width)
        self.pdf.setFont("Helvetica", 8)
        self.pdf.setFillColorRGB(0.33, 0.38, 0.45)
        self.pdf.drawString(self.left + 2 * mm, self.y, label)
        self.pdf.setFillColorRGB(0, 0, 0)
        self.pdf.setFont(font, size)
        for line in lines:
            self.pdf.drawString(self.left + _LABEL_W, self.y, line)
            self.y -= 4.6 * mm
        self.y -= 1.2 * mm


def _wrap(text: str, font: str, size: float, width: float) -> list[str]:
    """Words that fit ``width``; a word longer than a line (a hash) is cut where it must."""
    lines: list[str] = []
    for piece in simpleSplit(text, font, size, width):
        while stringWidth(piece, font, size) > width:
            cut = len(piece)
            while cut > 1 and stringWidth(piece[:cut], font, size) > width:
                cut -= 1
            lines.append(piece[:cut])
            piece = piece[cut:]
        lines.append(piece)
    return lines


def render_certificate(application: RegistrationApplication, verify_url: str) -> bytes:
    """The Certificate of Registration as the LTO's paper one is laid out: the office's
    header, the owner, the vehicle and the registration in sections, the ledger record with
    its transaction id whole, and a QR code to the public verification page."""
    vehicle = application.vehicle
    owner = application.applicant
    change = registration_change(application)
    # The CR this application issued; a renewal's certificate is the vehicle's valid CR.
    cr = application.certificates.first() or vehicle.certificates.filter(status="valid").first()
    period = getattr(application, "registration_period", None)
    profile = OwnerProfile.objects.filter(user=owner).first()
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4)
    pdf.setTitle(
        _("Certificate of Registration %(reference)s") % {"reference": application.reference}
    )
    pdf.setAuthor(settings.OFFICE_NAME)
    sheet = _Sheet(pdf)
    width, height = A4

    # A double frame, as on the printed form.
    pdf.setStrokeColorRGB(0.04, 0.31, 0.54)
    pdf.setLineWidth(1.6)
    pdf.rect(_MARGIN, _MARGIN, width - 2 * _MARGIN, height - 2 * _MARGIN)
    pdf.setLineWidth(0.5)
    pdf.rect(
        _MARGIN + 1.5 * mm,
        _MARGIN + 1.5 * mm,
        width - 2 * _MARGIN - 3 * mm,
        height - 2 * _MARGIN - 3 * mm,
    )

    sheet.centred(settings.GOVERNMENT_NAME, "Helvetica", 9, 4.5 * mm)
    sheet.centred(settings.OFFICE_PARENT, "Helvetica", 9, 6 * mm)
    sheet.centred(settings.OFFICE_NAME.upper(), "Helvetica-Bold", 14, 5 * mm)
    sheet.centred(settings.SERVICE_NAME, "Helvetica", 9, 5 * mm)
    pdf.setLineWidth(0.8)
    pdf.line(sheet.left, sheet.y, sheet.right, sheet.y)
    sheet.y -= 10 * mm
    sheet.centred(_("CERTIFICATE OF REGISTRATION"), "Helvetica-Bold", 18, 7 * mm)
    issued = cr.issued_at if cr else (change.created_at if change else None)
    sheet.centred(
        _("CR No. %(number)s  ·  Issued %(date)s")
        % {
            "number": cr.number if cr else "\N{EM DASH}",
            "date": date_format(timezone.localtime(issued), "j F Y") if issued else "\N{EM DASH}",
        },
        "Helvetica",
        10,
        4 * mm,
    )

    sheet.section(_("Owner"))
    sheet.row(_("Name"), owner.get_full_name() or owner.get_username())
    if profile is not None and profile.address:
        sheet.row(_("Address"), " ".join(profile.address.split()))

    sheet.section(_("Vehicle"))
    sheet.row(_("Make / model / year"), f"{vehicle.make} {vehicle.model} {vehicle.year}")
    sheet.row(_("Colour"), vehicle.colour)
    sheet.row(
        _("Body type / fuel"), f"{vehicle.get_body_type_display()} / {vehicle.get_fuel_display()}"
    )
    sheet.row(_("Classification"), vehicle.get_classification_display())
    sheet.row(_("Plate number"), vehicle.plate_number or "")
    sheet.row(_("MV file number"), vehicle.mv_file_number or "")
    sheet.row("VIN", vehicle.vin, mono=True)
    sheet.row(_("Engine number"), vehicle.engine_number, mono=True)
    sheet.row(_("Chassis number"), vehicle.chassis_number, mono=True)

    sheet.section(_("Registration"))
    qr_top = sheet.y + 4 * mm
    beside_qr = sheet.right - _QR_SIZE - 4 * mm
    sheet.row(_("Reference"), application.reference, right=beside_qr)
    sheet.row(_("Application"), application.get_type_display(), right=beside_qr)
    valid_from = period.valid_from if period else application.period_start
    valid_to = period.valid_to if period else application.period_end
    sheet.row(
        _("Registration period"),
        _("%(start)s to %(end)s")
        % {"start": date_format(valid_from, "j F Y"), "end": date_format(valid_to, "j F Y")},
        right=beside_qr,
    )
    sheet.row(
        _("Ledger transaction"), change.ledger_tx_id if change else "", mono=True, right=beside_qr
    )
    qr = qrcode.make(verify_url, box_size=6, border=2, image_factory=PilImage)
    image = io.BytesIO()
    qr.save(image, format="PNG")
    image.seek(0)
    pdf.drawImage(ImageReader(image), sheet.right - _QR_SIZE, qr_top - _QR_SIZE, _QR_SIZE, _QR_SIZE)
    pdf.setFont("Helvetica", 7)
    pdf.drawCentredString(
        sheet.right - _QR_SIZE / 2,
        qr_top - _QR_SIZE - 3 * mm,
        _("Scan to verify against the ledger"),
    )
    sheet.y = min(sheet.y, qr_top - _QR_SIZE - 6 * mm)

    mortgage = active_mortgage(vehicle)
    if mortgage is not None:
        # The one place that names the lender: the owner's own certificate.
        sheet.section(_("Encumbrance"))
        pdf.setFont("Helvetica-Bold", 10)
        pdf.drawString(
            sheet.left + 2 * mm,
            sheet.y,
            f"ENCUMBERED \N{EM DASH} chattel mortgage in favour of {mortgage.lender.name}"[:90],
        )
        sheet.y -= 5 * mm
        pdf.setFont("Helvetica", 9)
        pdf.drawString(
            sheet.left + 2 * mm, sheet.y, f"Mortgage {mortgage.reference}, annotated on the ledger."
        )
        sheet.y -= 5 * mm

    # The foot: how to check this paper, the whole address wrapped.
    foot = _MARGIN + 22 * mm
    pdf.setLineWidth(0.5)
    pdf.line(sheet.left, foot, sheet.right, foot)
    pdf.setFont("Helvetica", 8)
    y = foot - 5 * mm
    note = _(
        "Issued electronically by the %(office)s and recorded on its ledger. Any alteration "
        "voids this certificate. Check it at:"
    ) % {"office": settings.OFFICE_NAME}
    for line in _wrap(note, "Helvetica", 8, sheet.right - sheet.left):
        pdf.drawString(sheet.left, y, line)
        y -= 3.8 * mm
    pdf.setFont("Courier", 8)
    for line in _wrap(verify_url, "Courier", 8, sheet.right - sheet.left):
        pdf.drawString(sheet.left, y, line)
        y -= 3.8 * mm
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()
