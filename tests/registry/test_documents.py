"""Documents: accepted only when they are what they claim, anchored on the ledger, and
checked against that anchor every time someone opens them."""

from __future__ import annotations

import hashlib
import io

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile, UploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from ledger import get_ledger
from ledger.exceptions import LedgerUnavailable
from ledger.models import LedgerHead
from notifications.models import Notification
from registry.document_services import document_check, document_upload
from registry.events import DOCUMENT_INTEGRITY_FAILED
from registry.models import Document
from registry.tasks import verify_documents
from tests.conftest import draft_application, sent_for_clearance

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def upload(world, application, content=PDF, name="invoice.pdf", doc_type="sales_invoice", **kw):
    return document_upload(
        application_id=application.pk,
        uploader=kw.pop("uploader", world.owner),
        doc_type=doc_type,
        upload=SimpleUploadedFile(name, content),
        **kw,
    )


def stored_files(root):
    return sorted(path for path in root.rglob("*") if path.is_file()) if root.exists() else []


def ledger_size() -> int:
    head = LedgerHead.objects.filter(pk=1).first()
    return head.size if head else 0


def test_an_upload_is_stored_and_its_digest_anchored_on_the_ledger(world, document_root):
    application = draft_application(world)
    before = ledger_size()

    document = upload(world, application, name="dela-cruz-invoice.pdf")

    assert ledger_size() == before + 1
    anchored = get_ledger().get_change(str(document.ledger_change_id))
    assert anchored["type"] == "document"
    assert anchored["document_id"] == str(document.public_id)
    assert anchored["sha256"] == hashlib.sha256(PDF).hexdigest() == document.sha256
    assert anchored["vin"] == application.vehicle.vin
    assert anchored["document_type"] == "sales_invoice"
    assert anchored["tx_id"] == document.ledger_tx_id
    # The owner's upload is anchored by the LTO; no name or file content reaches the ledger.
    assert anchored["msp_id"] == world.lto.msp_id
    assert "dela-cruz" not in str(anchored) and world.owner.username not in str(anchored)
    assert document.storage_backend == "filesystem" and document.encryption == {}
    assert (document_root / document.location).read_bytes() == PDF
    assert document.media_type == "application/pdf" and document.size == len(PDF)


def test_an_officers_evidence_is_anchored_by_their_organisation(world):
    application, requests = sent_for_clearance(world)
    document = upload(
        world,
        application,
        uploader=world.hpg_officer,
        doc_type="hpg_clearance",
        clearance_request_id=requests["HPG"].pk,
    )
    assert get_ledger().get_change(str(document.ledger_change_id))["msp_id"] == world.hpg.msp_id


def test_the_viewer_shows_integrity_verified_and_serves_the_same_bytes(client, world):
    application = draft_application(world)
    client.force_login(world.owner)
    response = client.post(
        reverse("document-add", args=[application.pk]),
        {"doc_type": "sales_invoice", "file": SimpleUploadedFile("invoice.pdf", PDF)},
    )
    assert response.status_code == 302
    document = Document.objects.get()
    page = client.get(reverse("application-detail", args=[application.pk])).content.decode()
    assert "unchanged since upload, verified on the ledger" in page

    viewer = client.get(reverse("document-detail", args=[application.pk, document.pk]))
    assert viewer.status_code == 200
    html = viewer.content.decode()
    assert 'data-integrity="verified"' in html and "Integrity verified" in html
    assert document.ledger_tx_id[:12] in html and document.sha256 in html
    file_url = reverse("document-download", args=[application.pk, document.pk])
    assert f'<iframe src="{file_url}"' in html

    served = client.get(file_url)
    assert served.status_code == 200 and served.content == PDF
    assert served["Content-Type"] == "application/pdf"
    assert served["X-Content-Type-Options"] == "nosniff"
    # The viewer frames it, so this one response may be framed by our own pages.
    assert served["X-Frame-Options"] == "SAMEORIGIN"
    attachment = client.get(file_url, {"download": 1})
    assert attachment["Content-Disposition"].startswith("attachment")


def test_an_image_is_shown_as_an_image(client, world):
    application = draft_application(world)
    document = upload(world, application, content=PNG, name="stencil.png", doc_type="stencil_photo")
    client.force_login(world.owner)
    html = client.get(reverse("document-detail", args=[application.pk, document.pk])).content
    assert (
        b'<img src="' + reverse("document-download", args=[application.pk, document.pk]).encode()
        in html
    )


def test_a_file_altered_on_disk_is_withheld_and_reported_once(client, world, document_root, caplog):
    application = draft_application(world)
    document = upload(world, application)
    (document_root / document.location).write_bytes(PDF + b"% appended by someone")
    client.force_login(world.owner)

    viewer = client.get(reverse("document-detail", args=[application.pk, document.pk]))
    assert viewer.status_code == 409
    assert b"Integrity check failed" in viewer.content
    assert b"does not match the SHA-256 taken when it was uploaded" in viewer.content
    assert b"<iframe" not in viewer.content
    file_url = reverse("document-download", args=[application.pk, document.pk])
    refused = client.get(file_url)
    assert refused.status_code == 409 and b"withheld" in refused.content
    assert b"appended by someone" not in refused.content

    document.refresh_from_db()
    assert document.check_ok is False
    told = Notification.objects.filter(event=DOCUMENT_INTEGRITY_FAILED)
    assert list(told.values_list("recipient", flat=True)) == [world.lto_admin.pk]
    assert "failed its integrity check" in caplog.text
    page = client.get(reverse("application-detail", args=[application.pk])).content
    assert b"integrity check failed" in page


def test_a_file_and_row_rewritten_together_are_caught_by_the_ledger(client, world, document_root):
    """Someone with the database and the disk swaps the file and its digest: only the
    ledger's anchor still knows the original."""
    application = draft_application(world)
    document = upload(world, application)
    forged = PDF.replace(b"1 0 obj", b"2 0 obj")
    (document_root / document.location).write_bytes(forged)
    Document.objects.filter(pk=document.pk).update(sha256=hashlib.sha256(forged).hexdigest())
    document.refresh_from_db()

    checked = document_check(document)

    assert checked.content is None
    assert checked.check.detail == "The document differs from its ledger anchor in sha256."


def test_a_missing_file_is_reported(world, document_root):
    application = draft_application(world)
    document = upload(world, application)
    (document_root / document.location).unlink()
    assert document_check(document).check.detail == "The stored file is missing."


def test_verify_documents_names_each_failure_and_exits_non_zero(world, document_root):
    application = draft_application(world)
    good = upload(world, application)
    bad = upload(world, application, content=PDF + b"%second")
    (document_root / bad.location).write_bytes(b"%PDF-1.4 replaced")
    out = io.StringIO()

    with pytest.raises(CommandError) as failed:
        call_command("verify_documents", stdout=out, stderr=out)

    assert failed.value.returncode == 1
    report = out.getvalue()
    assert str(bad.public_id) in report and application.reference in report
    assert str(good.public_id) not in report
    assert "2 documents checked, 1 failed" in report


def test_verify_documents_passes_when_all_is_well(world):
    application = draft_application(world)
    upload(world, application)
    out = io.StringIO()
    call_command("verify_documents", stdout=out)
    assert "1 documents checked, 0 failed" in out.getvalue()


class NamedUpload(UploadedFile):
    """An upload whose name is taken as given: Django's own upload handling strips folders
    from names before we see them, so this is how a path-like name reaches the service."""

    def __init__(self, name: str, content: bytes) -> None:
        super().__init__(io.BytesIO(content), size=len(content))
        self._name = name

    @property
    def name(self) -> str:
        return self._name

    @name.setter
    def name(self, value: str) -> None:
        self._name = value


BIG_PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * (6 * 1024 * 1024)


@pytest.mark.parametrize(
    ("doc_type", "name", "content", "message"),
    [
        ("sales_invoice", "empty.pdf", b"", "The file is empty."),
        (
            "sales_invoice",
            "invoice.pdf",
            b"MZ\x90\x00 a program",
            "This file is a Windows program, whatever its name says.",
        ),
        ("sales_invoice", "invoice.pdf", b"PK\x03\x04zip", "This file is a ZIP archive"),
        ("sales_invoice", "notes.pdf", b"just some text", "content is not recognised"),
        (
            "stencil_photo",
            "stencil.png",
            PDF,
            "This file is a PDF, whatever its name says. A photo of engine/chassis stencil "
            "must be PNG or JPEG, at most 5.0\xa0MB",
        ),
        ("stencil_photo", "big.png", BIG_PNG, "at most 5.0\xa0MB; this file is 6.0\xa0MB."),
        ("sales_invoice", "../../etc/passwd.pdf", PDF, "without folders"),
        ("sales_invoice", "a\\b.pdf", PDF, "without folders"),
        ("sales_invoice", "..", PDF, "without folders"),
        ("sales_invoice", ".hidden.pdf", PDF, "must not start with a dot"),
        ("sales_invoice", "bell\x07.pdf", PDF, "control characters"),
        ("sales_invoice", "x" * 201 + ".pdf", PDF, "longer than 200"),
        ("passport_scan", "a.pdf", PDF, "Choose the kind of document."),
    ],
)
def test_a_bad_upload_is_refused_with_its_reason_and_nothing_is_kept(
    world, document_root, doc_type, name, content, message
):
    application = draft_application(world)
    before = ledger_size()
    with pytest.raises(ValidationError) as refused:
        document_upload(
            application_id=application.pk,
            uploader=world.owner,
            doc_type=doc_type,
            upload=NamedUpload(name, content),
        )
    assert message in " ".join(refused.value.messages)
    assert not Document.objects.exists()
    assert stored_files(document_root) == []
    assert ledger_size() == before


def test_a_refused_upload_in_the_browser_shows_the_reason(client, world, document_root):
    application = draft_application(world)
    client.force_login(world.owner)
    fake = SimpleUploadedFile("photo.pdf", b"MZ\x90\x00 not a pdf", content_type="application/pdf")
    response = client.post(
        reverse("document-add", args=[application.pk]), {"doc_type": "other", "file": fake}
    )
    assert response.status_code == 422
    assert b"This file is a Windows program, whatever its name says." in response.content
    assert not Document.objects.exists() and stored_files(document_root) == []


def test_when_the_ledger_is_down_the_upload_leaves_nothing_behind(
    world, document_root, monkeypatch
):
    from ledger import adapter
    from tests.clearance.test_ledger_failures import FailingLedger

    application = draft_application(world)
    monkeypatch.setattr(adapter, "configured_ledger", lambda: FailingLedger(LedgerUnavailable()))
    with pytest.raises(LedgerUnavailable):
        upload(world, application)
    assert not Document.objects.exists()
    assert stored_files(document_root) == []


def test_nobody_else_can_open_a_document(client, world):
    application = draft_application(world)
    document = upload(world, application)
    for outsider in (world.other_owner, world.hpg_officer):
        client.force_login(outsider)
        for name in ("document-detail", "document-download"):
            response = client.get(reverse(name, args=[application.pk, document.pk]))
            assert response.status_code == 404, (outsider, name)
            assert document.sha256.encode() not in response.content
    # LTO staff may: they review every application.
    client.force_login(world.lto_admin)
    assert (
        client.get(reverse("document-detail", args=[application.pk, document.pk])).status_code
        == 200
    )


def test_the_nightly_sweep_finds_an_altered_file_nobody_opened(world, document_root):
    application = draft_application(world)
    upload(world, application)
    altered = upload(world, application, content=PDF + b"%2")
    (document_root / altered.location).write_bytes(b"%PDF-1.4 swapped")

    assert verify_documents.apply().get() == "2 documents checked, 1 failed."

    altered.refresh_from_db()
    assert altered.check_ok is False
    assert Notification.objects.filter(event=DOCUMENT_INTEGRITY_FAILED).count() == 1
