"""The papers each application type needs: a checklist everyone who sees the application sees,
a filing refused while one is missing, and requirements that are data the admin edits."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from rest_framework.test import APIClient

from chaincode.rules import ApplicationStatus
from ledger.models import LedgerEntry
from notifications.models import Notification
from registry import services as registry_services
from registry.document_services import DocumentsMissing, document_checklist, document_upload
from registry.models import DocumentRequirement, RegistrationApplication
from tests.api.test_problems import assert_problem
from tests.conftest import (
    STAND_IN_PDF,
    draft_application,
    filed_application,
    registered_application,
    sent_for_clearance,
)
from tests.factories import UserFactory


def draft(world, *papers: str) -> RegistrationApplication:
    """A new registration of a new vehicle of the owner's, with these papers uploaded."""
    application = draft_application(world)
    for doc_type in papers:
        upload(application, doc_type)
    return application


def upload(application: RegistrationApplication, doc_type: str) -> None:
    document_upload(
        application_id=application.pk,
        uploader=application.applicant,
        doc_type=doc_type,
        upload=SimpleUploadedFile(f"{doc_type}.pdf", STAND_IN_PDF),
    )


def checklist_on(html: str) -> dict[str, str]:
    """The checklist a page shows: each document type with its status."""
    [section] = re.findall(r'<section[^>]*data-testid="checklist".*?</section>', html, re.S)
    return dict(re.findall(r'data-doc-type="(\w+)" data-status="(\w+)"', section))


def checklist_section(html: str) -> str:
    [section] = re.findall(r'<section[^>]*data-testid="checklist".*?</section>', html, re.S)
    return section


def rows(application: RegistrationApplication) -> tuple:
    """What a filing changes: the application, its history, notifications, the ledger."""
    application.refresh_from_db()
    return (
        application.status,
        application.submitted_at,
        application.status_changes.count(),
        Notification.objects.count(),
        LedgerEntry.objects.count(),
    )


@pytest.fixture
def site_admin(db):
    return UserFactory(username="site.admin", is_staff=True, is_superuser=True)


def test_the_owner_sees_what_a_new_registration_needs_and_what_is_missing(client, world):
    application = draft(world, "sales_invoice")
    client.force_login(world.owner)

    page = client.get(reverse("application-detail", args=[application.pk])).content.decode()

    assert checklist_on(page) == {
        "csr": "missing",
        "insurance_coc": "missing",
        "sales_invoice": "uploaded",
    }
    section = checklist_section(page)
    assert "Certificate of stock reported" in section
    assert "uploaded by the applicant" in section
    assert "It can be submitted once every document above is uploaded." in section


def test_submitting_from_the_page_is_refused_naming_each_missing_document(client, world):
    application = draft(world, "sales_invoice")
    before = rows(application)
    client.force_login(world.owner)

    response = client.post(reverse("application-submit", args=[application.pk]))

    assert response.status_code == 422
    page = response.content.decode()
    assert (
        "Still missing: Certificate of stock reported and Insurance certificate of cover." in page
    )
    assert checklist_on(page)["csr"] == "missing"
    assert rows(application) == before


def test_submitting_through_the_api_is_a_422_listing_the_missing_documents(world):
    application = draft(world, "csr")
    client = APIClient()
    client.force_login(world.owner)
    shown = client.get(f"/api/v1/applications/{application.pk}/").json()
    before = rows(application)

    response = client.post(f"/api/v1/applications/{application.pk}/submit/")

    body = assert_problem(response, 422, "documents_missing")
    assert body["errors"] == {"missing_documents": ["insurance_coc", "sales_invoice"]}
    assert "Insurance certificate of cover and Sales invoice" in body["detail"]
    assert rows(application) == before
    assert [
        (item["doc_type"], item["status"], item["filed_by"]) for item in shown["required_documents"]
    ] == [
        ("csr", "uploaded", "applicant"),
        ("insurance_coc", "missing", "applicant"),
        ("sales_invoice", "missing", "applicant"),
    ]
    assert shown["required_documents"][0]["label"] == "Certificate of stock reported"


def test_once_every_document_is_uploaded_the_submit_goes_through(client, world):
    application = draft(world, "sales_invoice", "csr", "insurance_coc")
    client.force_login(world.owner)

    response = client.post(reverse("application-submit", args=[application.pk]))

    assert response.status_code == 302
    application.refresh_from_db()
    assert application.status == ApplicationStatus.SUBMITTED


def test_a_renewal_needs_the_certificate_of_cover(world):
    registered = registered_application(world, filed_application(world))
    renewal = registry_services.application_create(
        applicant=world.owner,
        vehicle_id=registered.vehicle_id,
        type="renewal",
        today=registered.period_end - dt.timedelta(days=10),  # in the plate's window
    )

    with pytest.raises(DocumentsMissing, match="Still missing: Insurance certificate of cover"):
        registry_services.application_submit(application_id=renewal.pk, actor=world.owner)

    upload(renewal, "insurance_coc")
    registry_services.application_submit(application_id=renewal.pk, actor=world.owner)
    renewal.refresh_from_db()
    assert renewal.status == ApplicationStatus.SUBMITTED


def test_lto_staff_and_the_clearing_officers_see_the_owner_s_checklist(client, world):
    application, requests = sent_for_clearance(world)
    pages = {}
    for person in (world.owner, world.lto_admin, world.hpg_officer):
        client.force_login(person)
        pages[person.username] = client.get(
            reverse("application-detail", args=[application.pk])
        ).content.decode()
    client.force_login(world.hpg_officer)
    request_page = client.get(
        reverse("clearance-detail", args=[requests["HPG"].pk])
    ).content.decode()

    owner_sees = checklist_section(pages[world.owner.username])
    assert checklist_on(owner_sees) == {
        "csr": "uploaded",
        "insurance_coc": "uploaded",
        "sales_invoice": "uploaded",
    }
    assert checklist_section(pages[world.lto_admin.username]) == owner_sees
    assert checklist_section(pages[world.hpg_officer.username]) == owner_sees
    assert checklist_section(request_page) == owner_sees


def test_a_requirement_added_in_the_admin_blocks_filing_until_it_is_uploaded(
    client, world, site_admin
):
    client.force_login(site_admin)
    response = client.post(
        reverse("admin:registry_documentrequirement_add"),
        {
            "application_type": "new",
            "doc_type": "government_id",
            "filed_by": "applicant",
            "description": "The owner's valid government-issued ID.",
            "is_active": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    application = draft(world, "sales_invoice", "csr", "insurance_coc")

    with pytest.raises(DocumentsMissing, match="Still missing: Government ID"):
        registry_services.application_submit(application_id=application.pk, actor=world.owner)

    upload(application, "government_id")
    registry_services.application_submit(application_id=application.pk, actor=world.owner)
    application.refresh_from_db()
    assert application.status == ApplicationStatus.SUBMITTED


def test_a_requirement_retired_in_the_admin_no_longer_blocks_nor_shows(client, world, site_admin):
    csr = DocumentRequirement.objects.get(application_type="new", doc_type="csr")
    client.force_login(site_admin)
    response = client.post(
        reverse("admin:registry_documentrequirement_change", args=[csr.pk]),
        {
            "application_type": "new",
            "doc_type": "csr",
            "filed_by": "applicant",
            "description": csr.description,
            # "is_active" left out: the box unticked.
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    application = draft(world, "sales_invoice", "insurance_coc")
    client.force_login(world.owner)
    page = client.get(reverse("application-detail", args=[application.pk])).content.decode()

    registry_services.application_submit(application_id=application.pk, actor=world.owner)

    assert "csr" not in checklist_on(page)
    application.refresh_from_db()
    assert application.status == ApplicationStatus.SUBMITTED
    assert DocumentRequirement.objects.filter(pk=csr.pk, is_active=False).exists()


def test_the_admin_lists_requirements_by_type_and_who_uploads_them(client, site_admin):
    client.force_login(site_admin)

    response = client.get(
        reverse("admin:registry_documentrequirement_changelist"), {"filed_by__exact": "seller"}
    )

    assert response.status_code == 200
    listed = [(r.application_type, r.doc_type) for r in response.context["cl"].result_list]
    assert listed == [("transfer", "deed_of_sale")]
    assert "Deed of sale" in response.content.decode()


def test_the_checklist_costs_two_queries(world, django_assert_num_queries):
    application = draft(world, "sales_invoice")

    with django_assert_num_queries(2):
        checklist = document_checklist(application)

    assert [(item.doc_type, item.status) for item in checklist] == [
        ("csr", "missing"),
        ("insurance_coc", "missing"),
        ("sales_invoice", "uploaded"),
    ]
