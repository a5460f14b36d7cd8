"""Evidence on the decision page: uploading it loses none of the half-filled decision, its
kind is chosen by the officer (nothing pre-selected), and it can be added after deciding."""

from __future__ import annotations

import re

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from registry.models import Document
from tests.clearance.test_pages import approve_emission, claimed_emission_request
from tests.conftest import STAND_IN_PDF


def _pdf(name: str = "emission-printout.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, STAND_IN_PDF, content_type="application/pdf")


HALF_FILLED = {
    "decision": "approved",
    "remarks": "Smoke test done at lane 2.",
    "testing_centre": "Maharlika ETC",
    "certificate_number": "ETC-77",
    "fuel": "gasoline",
    "co_percent": "0.9",
}


def test_uploading_evidence_alone_keeps_the_half_filled_decision_on_the_page(client, world):
    request = claimed_emission_request(client, world)

    uploaded = client.post(
        reverse("clearance-evidence", args=[request.pk]),
        {**HALF_FILLED, "evidence-doc_type": "emission_certificate", "evidence-file": _pdf()},
    )

    assert uploaded.status_code == 302
    assert uploaded["Location"] == reverse("clearance-detail", args=[request.pk])
    document = Document.objects.get(clearance_request=request)
    assert document.doc_type == "emission_certificate"
    request.refresh_from_db()
    assert request.status == "in_review"  # nothing decided
    page = client.get(uploaded["Location"]).content.decode()
    assert "Smoke test done at lane 2.</textarea>" in page
    assert 'value="ETC-77"' in page
    assert re.search(r'<input[^>]*value="approved"[^>]*checked', page)


def test_the_kind_of_evidence_starts_empty_and_must_be_chosen(client, world):
    request = claimed_emission_request(client, world)
    page = client.get(reverse("clearance-detail", args=[request.pk])).content.decode()
    select = re.search(r'<select name="evidence-doc_type".*?</select>', page, re.S)
    assert select is not None
    assert re.search(r'<option value="" selected>', select.group(0))
    assert "Sales invoice</option>" in select.group(0)  # offered, not chosen
    assert not re.search(r'<option value="sales_invoice" selected', page)

    refused = client.post(
        reverse("clearance-evidence", args=[request.pk]),
        {**HALF_FILLED, "evidence-file": _pdf()},
    )

    assert refused.status_code == 422
    assert "This field is required." in refused.content.decode()
    assert not Document.objects.filter(clearance_request=request).exists()
    # The draft is still on the refused page.
    assert "Smoke test done at lane 2.</textarea>" in refused.content.decode()


def test_evidence_attached_to_the_decision_is_filed_with_it(client, world):
    request = claimed_emission_request(client, world)

    response = approve_emission(
        client,
        request,
        test_date=timezone.localdate().isoformat(),
        hc_ppm="100",
        **{"evidence-doc_type": "emission_certificate", "evidence-file": _pdf()},
    )

    assert response.status_code == 302
    request.refresh_from_db()
    assert request.status == "approved"
    assert Document.objects.filter(clearance_request=request, doc_type="emission_certificate")


def test_evidence_is_added_after_deciding_with_who_and_when_and_the_decision_stays(client, world):
    request = claimed_emission_request(client, world)
    approve_emission(client, request)
    page = client.get(reverse("clearance-detail", args=[request.pk])).content.decode()
    assert 'id="evidence-h"' in page

    added = client.post(
        reverse("clearance-evidence", args=[request.pk]),
        {"evidence-doc_type": "other", "evidence-file": _pdf("late-photo.pdf")},
    )

    assert added.status_code == 302
    request.refresh_from_db()
    assert request.status == "approved"
    document = Document.objects.get(clearance_request=request)
    assert document.uploaded_by == world.emission_officer
    page = client.get(reverse("clearance-detail", args=[request.pk])).content.decode()
    assert "added after the decision by" in page
    assert world.emission_officer.username in page or world.emission_officer.get_full_name() in page


def test_a_cancelled_request_takes_no_more_evidence(client, world):
    from clearance import services

    request = claimed_emission_request(client, world)
    services.clearance_cancel(request_id=request.pk, actor=world.lto_admin, reason="Not needed.")

    refused = client.post(
        reverse("clearance-evidence", args=[request.pk]),
        {"evidence-doc_type": "other", "evidence-file": _pdf()},
    )

    assert refused.status_code == 409
    assert "takes no more evidence" in refused.content.decode()
    assert not Document.objects.filter(clearance_request=request).exists()
