"""The registration certificate (PDF with a QR code) and the public verification page."""

from __future__ import annotations

import io

import qrcode
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from qrcode.image.pil import PilImage
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen import canvas

from chaincode.rules import ApplicationStatus
from kernel.auth import AuthenticatedHttpRequest
from organisations.access import Action, Caller
from registry import access
from registry.models import ApplicationStatusChange, RegistrationApplication
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


def render_certificate(application: RegistrationApplication, verify_url: str) -> bytes:
    vehicle = application.vehicle
    owner = application.applicant
    change = registration_change(application)
    # The CR this application issued; a renewal's certificate is the vehicle's valid CR.
    cr = application.certificates.first() or vehicle.certificates.filter(status="valid").first()
    period = getattr(application, "registration_period", None)
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4)
    pdf.setTitle(f"Certificate of registration {application.reference}")
    width, height = A4
    pdf.setFont("Helvetica-Bold", 18)
    pdf.drawString(20 * mm, height - 30 * mm, "Certificate of Registration")
    pdf.setFont("Helvetica", 10)
    pdf.drawString(20 * mm, height - 37 * mm, "Land Transportation Office · issued through Talaan")
    rows = [
        ("CR number", cr.number if cr else ""),
        ("Reference", application.reference),
        ("MV file number", vehicle.mv_file_number or ""),
        ("Plate number", vehicle.plate_number or ""),
        ("Owner", owner.get_full_name() or owner.get_username()),
        ("Vehicle", f"{vehicle.year} {vehicle.make} {vehicle.model}, {vehicle.colour}"),
        ("Body type / fuel", f"{vehicle.get_body_type_display()} / {vehicle.get_fuel_display()}"),
        ("VIN", vehicle.vin),
        ("Engine number", vehicle.engine_number),
        ("Chassis number", vehicle.chassis_number),
        ("Classification", vehicle.get_classification_display()),
        (
            "Registration period",
            f"{period.valid_from:%d %B %Y} to {period.valid_to:%d %B %Y}"
            if period
            else f"{application.period_start:%d %B %Y} to {application.period_end:%d %B %Y}",
        ),
        ("Ledger transaction", change.ledger_tx_id if change else ""),
    ]
    y = height - 55 * mm
    for label, value in rows:
        pdf.setFont("Helvetica-Bold", 10)
        pdf.drawString(20 * mm, y, label)
        pdf.setFont("Courier" if label in {"VIN", "Ledger transaction"} else "Helvetica", 10)
        pdf.drawString(65 * mm, y, value[:80])
        y -= 8 * mm
    mortgage = active_mortgage(vehicle)
    if mortgage is not None:
        # The one place that names the lender: the owner's own certificate.
        pdf.setFont("Helvetica-Bold", 11)
        pdf.drawString(
            20 * mm,
            y - 4 * mm,
            f"ENCUMBERED \N{EM DASH} chattel mortgage in favour of {mortgage.lender.name}"[:90],
        )
        pdf.setFont("Helvetica", 9)
        pdf.drawString(
            20 * mm, y - 10 * mm, f"Mortgage {mortgage.reference}, annotated on the ledger."
        )
    qr = qrcode.make(verify_url, box_size=6, border=2, image_factory=PilImage)
    image = io.BytesIO()
    qr.save(image, format="PNG")
    image.seek(0)
    pdf.drawImage(ImageReader(image), width - 65 * mm, height - 80 * mm, 45 * mm, 45 * mm)
    pdf.setFont("Helvetica", 8)
    pdf.drawString(width - 65 * mm, height - 85 * mm, "Scan to verify against the ledger")
    pdf.drawString(20 * mm, 20 * mm, verify_url)
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()
