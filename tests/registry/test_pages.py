"""Owners and LTO staff through the pages: forms, refusals with their status, fragments."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from registry.models import Document, RegistrationApplication, Vehicle
from tests.conftest import claim_and_approve, filed_application, sent_for_clearance
from tests.paying import pay_in_full

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"

VEHICLE = {
    "vin": "JTDBR32E720012345",
    "engine_number": "2NZ1234567",
    "chassis_number": "NCP920012345",
    "make": "Toyota",
    "model": "Vios",
    "year": 2025,
    "body_type": "sedan",
    "colour": "White",
    "fuel": "gasoline",
    "classification": "private",
}


def test_an_owner_registers_a_vehicle_and_files_an_application(client, world):
    client.force_login(world.owner)
    response = client.post(reverse("vehicle-new"), VEHICLE)
    assert response.status_code == 302
    vehicle = Vehicle.objects.get(owner=world.owner)

    response = client.post(reverse("application-new"), {"vehicle": vehicle.pk, "type": "new"})
    application = RegistrationApplication.objects.get(vehicle=vehicle)
    assert response["Location"] == reverse("application-detail", args=[application.pk])

    for doc_type in ("sales_invoice", "csr", "insurance_coc"):  # what a new one needs
        upload = SimpleUploadedFile(f"{doc_type}.pdf", PDF, content_type="application/pdf")
        client.post(
            reverse("document-add", args=[application.pk]), {"doc_type": doc_type, "file": upload}
        )
    client.post(reverse("application-submit", args=[application.pk]))
    application.refresh_from_db()
    assert application.status == "submitted"
    documents = Document.objects.filter(application=application)
    assert {document.media_type for document in documents} == {"application/pdf"}


def test_a_bad_vin_is_shown_on_the_form_and_nothing_is_saved(client, world):
    client.force_login(world.owner)
    response = client.post(reverse("vehicle-new"), {**VEHICLE, "vin": "JTDBR32E72001234O"})
    assert response.status_code == 422
    assert b"never uses I, O or Q" in response.content
    assert not Vehicle.objects.exists()


def test_an_illegal_move_from_the_page_is_a_409_with_the_reason(client, world):
    application = filed_application(world)
    client.force_login(world.owner)
    response = client.post(reverse("application-submit", args=[application.pk]))
    assert response.status_code == 409
    assert b"submitted cannot become submitted" in response.content


def test_lto_staff_search_and_filter_the_queue(client, world):
    mine = filed_application(world)
    sent, _ = sent_for_clearance(world)
    client.force_login(world.lto_admin)

    def rows(**query):
        return client.get(reverse("lto-queue"), query, HTTP_HX_REQUEST="true").content.decode()

    assert mine.reference in rows(q=mine.reference) and sent.reference not in rows(q=mine.reference)
    assert sent.reference in rows(q=sent.vehicle.vin)
    assert mine.reference not in rows(q=sent.vehicle.vin)
    assert mine.reference in rows(status="submitted")
    assert sent.reference not in rows(status="submitted")
    fragment = client.get(
        reverse("lto-queue"), {"status": "awaiting_clearances"}, HTTP_HX_REQUEST="true"
    )
    assert b"<html" not in fragment.content and sent.reference.encode() in fragment.content


def test_overdue_clearances_stand_out_in_the_lto_queue(client, world):
    application, requests = sent_for_clearance(world)
    requests["HPG"].due_at = requests["HPG"].due_at - dt.timedelta(days=30)
    requests["HPG"].save(update_fields=["due_at"])
    client.force_login(world.lto_admin)
    body = client.get(
        reverse("lto-queue"), {"overdue": "on"}, HTTP_HX_REQUEST="true"
    ).content.decode()
    assert application.reference in body and "SLA overdue" in body


def test_the_lto_sends_approves_and_the_owner_downloads_a_certificate_with_qr(client, world):
    application = filed_application(world)
    client.force_login(world.lto_admin)
    client.post(reverse("application-review", args=[application.pk]))
    client.post(reverse("application-send", args=[application.pk]))
    for request in application.clearance_requests.all():
        claim_and_approve(world, request)
    pay_in_full(application)
    response = client.post(
        reverse("registration-approve", args=[application.pk]), {"plate_number": "nbc 1234"}
    )
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.status == "approved" and application.vehicle.plate_number == "NBC 1234"

    client.force_login(world.owner)
    pdf = client.get(reverse("certificate", args=[application.pk]))
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")

    client.logout()
    public = client.get(reverse("verify", args=[application.reference])).content.decode()
    certificate = application.certificates.get()
    assert f"Registered: certificate {certificate.number} is valid" in public
    assert "These records match the ledger." in public
    assert world.owner.last_name not in public and application.vehicle.vin not in public


def test_public_verification_of_an_unknown_reference_is_404(client, db):
    response = client.get(reverse("verify", args=["TLN-NOSUCH00"]))
    assert response.status_code == 404


def test_an_owner_signs_up_and_confirms_their_email(client, db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("signup"),
            {
                "username": "ana",
                "first_name": "Ana",
                "last_name": "Reyes",
                "email": "ana@example.ph",
                "password1": "a-Long-pass-phrase-2026",
                "password2": "a-Long-pass-phrase-2026",
            },
        )
    assert response.status_code == 200 and b"Check your e-mail" in response.content
    assert not client.login(username="ana", password="a-Long-pass-phrase-2026")
    link = next(line for line in mail.outbox[0].body.splitlines() if "/verify-email/" in line)
    assert client.get(link.replace("http://testserver", "")).status_code == 302
    assert client.login(username="ana", password="a-Long-pass-phrase-2026")
    again = client.get(link.replace("http://testserver", ""))
    assert again.status_code == 400


@pytest.mark.parametrize("path", ["/", "/lto/applications/", "/queue/", "/ledger/"])
def test_each_role_lands_on_its_own_page(client, world, path):
    expected = {
        "/": "owner",
        "/lto/applications/": "lto_admin",
        "/queue/": "hpg_officer",
        "/ledger/": "lto_admin",
    }[path]
    client.force_login(getattr(world, expected))
    assert client.get(path).status_code == 200


def test_an_owner_corrects_a_typo_in_the_engine_number_of_a_returned_application(client, world):
    application, requests = sent_for_clearance(world)
    from clearance import services as clearance_services

    clearance_services.clearance_claim(request_id=requests["HPG"].pk, officer=world.hpg_officer)
    clearance_services.clearance_decide(
        request_id=requests["HPG"].pk,
        officer=world.hpg_officer,
        decision="returned",
        remarks="Engine number on the form does not match the stencil.",
    )
    vehicle = application.vehicle
    client.force_login(world.owner)
    fields = {
        **VEHICLE,
        "vin": vehicle.vin,
        "chassis_number": vehicle.chassis_number,
        "engine_number": "2nz 7654321",
    }
    response = client.post(reverse("vehicle-correct", args=[application.pk]), fields)
    assert response.status_code == 302
    vehicle.refresh_from_db()
    assert vehicle.engine_number == "2NZ7654321"


def test_vehicle_details_cannot_be_changed_once_sent_for_clearance(client, world):
    application, _ = sent_for_clearance(world)
    vehicle = application.vehicle
    client.force_login(world.owner)
    fields = {**VEHICLE, "vin": vehicle.vin, "chassis_number": vehicle.chassis_number}
    response = client.post(reverse("vehicle-correct", args=[application.pk]), fields)
    assert response.status_code == 409
    vehicle.refresh_from_db()
    assert vehicle.engine_number != VEHICLE["engine_number"]
