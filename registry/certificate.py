"""The registration certificate (PDF with a QR code) and the public verification page."""

from __future__ import annotations

import io

import qrcode
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from qrcode.image.pil import PilImage
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen import canvas

from chaincode.rules import ApplicationStatus
from kernel.auth import AuthenticatedHttpRequest
from kernel.i18n import manila_date
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
    # reportlab's standard fonts: a certificate names no amount, so it needs no peso sign,
    # and Helvetica's Latin-1 draws Filipino (ñ) too.
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4)
    pdf.setTitle(
        gettext("Certificate of registration %(reference)s") % {"reference": application.reference}
    )
    width, height = A4
    pdf.setFont("Helvetica-Bold", 18)
    pdf.drawString(20 * mm, height - 30 * mm, gettext("Certificate of Registration"))
    pdf.setFont("Helvetica", 10)
    pdf.drawString(
        20 * mm, height - 37 * mm, gettext("Land Transportation Office · issued through Talaan")
    )
    start, end = (
        (period.valid_from, period.valid_to)
        if period
        else (application.period_start, application.period_end)
    )
    # (label, value, whether the value is a code set in a fixed-width font)
    rows = [
        (gettext("CR number"), cr.number if cr else "", False),
        (gettext("Reference"), application.reference, False),
        (gettext("MV file number"), vehicle.mv_file_number or "", False),
        (gettext("Plate number"), vehicle.plate_number or "", False),
        (gettext("Owner"), owner.get_full_name() or owner.get_username(), False),
        (
            gettext("Vehicle"),
            f"{vehicle.year} {vehicle.make} {vehicle.model}, {vehicle.colour}",
            False,
        ),
        (
            gettext("Body type / fuel"),
            f"{vehicle.get_body_type_display()} / {vehicle.get_fuel_display()}",
            False,
        ),
        (gettext("VIN"), vehicle.vin, True),
        (gettext("Engine number"), vehicle.engine_number, False),
        (gettext("Chassis number"), vehicle.chassis_number, False),
        (gettext("Classification"), vehicle.get_classification_display(), False),
        (
            gettext("Registration period"),
            gettext("%(start)s to %(end)s")
            % {"start": manila_date(start, long=True), "end": manila_date(end, long=True)},
            False,
        ),
        (gettext("Ledger transaction"), change.ledger_tx_id if change else "", True),
    ]
    y = height - 55 * mm
    for label, value, code in rows:
        pdf.setFont("Helvetica-Bold", 10)
        pdf.drawString(20 * mm, y, label)
        pdf.setFont("Courier" if code else "Helvetica", 10)
        pdf.drawString(65 * mm, y, value[:80])
        y -= 8 * mm
    mortgage = active_mortgage(vehicle)
    if mortgage is not None:
        # The one place that names the lender: the owner's own certificate.
        pdf.setFont("Helvetica-Bold", 11)
        pdf.drawString(
            20 * mm,
            y - 4 * mm,
            (
                gettext("ENCUMBERED — chattel mortgage in favour of %(lender)s")
                % {"lender": mortgage.lender.name}
            )[:90],
        )
        pdf.setFont("Helvetica", 9)
        pdf.drawString(
            20 * mm,
            y - 10 * mm,
            gettext("Mortgage %(reference)s, annotated on the ledger.")
            % {"reference": mortgage.reference},
        )
    qr = qrcode.make(verify_url, box_size=6, border=2, image_factory=PilImage)
    image = io.BytesIO()
    qr.save(image, format="PNG")
    image.seek(0)
    pdf.drawImage(ImageReader(image), width - 65 * mm, height - 80 * mm, 45 * mm, 45 * mm)
    pdf.setFont("Helvetica", 8)
    pdf.drawString(width - 65 * mm, height - 85 * mm, gettext("Scan to verify against the ledger"))
    pdf.drawString(20 * mm, 20 * mm, verify_url)
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()
