"""Documents on IPFS and OCI through the same upload and check services as on the filesystem:
switching DOCUMENT_STORAGE is all it takes.

IPFS is a real Kubo (embedded, behind the test façade in kubo.py); OCI is the loopback
stand-in in oci_standin.py, which checks the SDK's signatures (no OCI emulator exists here).
"""

from __future__ import annotations

import hashlib
import io
import secrets

import httpx
import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from ledger import get_ledger
from registry.document_services import document_check, document_upload
from registry.models import Document
from registry.storage import document_storage
from registry.storage.errors import StorageUnavailable
from registry.storage.sealing import seal
from tests.conftest import draft_application

PDF = b"%PDF-1.4\n% a sales invoice for a red Vios\n1 0 obj<<>>endobj\n%%EOF\n"


@pytest.fixture
def on_ipfs(settings, kubo_api_url):
    settings.STORAGES = {
        **settings.STORAGES,
        "documents:ipfs": {
            "BACKEND": "registry.storage.ipfs.IpfsStorage",
            "OPTIONS": {"api_url": kubo_api_url, "timeout": 10},
        },
    }
    settings.DOCUMENT_STORAGE = "ipfs"
    return kubo_api_url


@pytest.fixture
def on_oci(settings, oci_standin):
    settings.STORAGES = {
        **settings.STORAGES,
        "documents:oci": {
            "BACKEND": "registry.storage.oci.OciStorage",
            "OPTIONS": oci_standin.storage_options(),
        },
    }
    settings.DOCUMENT_STORAGE = "oci"
    return oci_standin


def upload(world, content=PDF):
    return document_upload(
        application_id=draft_application(world).pk,
        uploader=world.owner,
        doc_type="sales_invoice",
        upload=SimpleUploadedFile("invoice.pdf", content),
    )


def ipfs_cat(api_url: str, cid: str) -> bytes:
    return httpx.post(f"{api_url}/api/v0/cat", params={"arg": cid}).content


def test_on_ipfs_the_file_is_sealed_and_its_cid_anchored(world, on_ipfs, client):
    content = PDF + secrets.token_bytes(16)
    document = upload(world, content)

    assert document.storage_backend == "ipfs"
    assert document.location.startswith(("Qm", "b"))  # a CID, as Kubo computed it
    assert document.encryption["alg"] == "AES-256-GCM"
    on_the_network = ipfs_cat(on_ipfs, document.location)
    # Whoever learns the CID gets only ciphertext.
    assert on_the_network and content not in on_the_network and b"%PDF" not in on_the_network
    anchored = get_ledger().get_change(str(document.ledger_change_id))
    assert anchored["cid"] == document.location
    assert anchored["sha256"] == hashlib.sha256(content).hexdigest()

    client.force_login(world.owner)
    viewer = client.get(reverse("document-detail", args=[document.application_id, document.pk]))
    assert viewer.status_code == 200 and b"Integrity verified" in viewer.content
    assert document.location.encode() in viewer.content
    served = client.get(reverse("document-download", args=[document.application_id, document.pk]))
    assert served.content == content


def test_on_ipfs_a_row_pointed_at_other_content_is_caught(world, on_ipfs):
    """Someone repoints the row at another CID sealed with the same keys: the digest may even
    agree, but the ledger anchored the original CID."""
    original = upload(world)
    other = upload(world, PDF + b"% another")
    Document.objects.filter(pk=original.pk).update(
        location=other.location, encryption=other.encryption, sha256=other.sha256
    )
    original.refresh_from_db()

    check = document_check(original).check

    assert not check.ok
    # The seal is bound to the document's own id, so it does not even open.
    assert "cannot be opened" in check.detail


def test_on_ipfs_a_cid_rewritten_with_its_digest_is_caught_by_the_ledger(world, on_ipfs):
    original = upload(world)
    forged = upload(world, PDF + b"% forged")
    # The worst case: the forger also holds the master key and seals a copy for this
    # document's id, then rewrites the row's CID, seal and digest to match.
    sealed = seal(PDF + b"% forged", associated_data=original.public_id.bytes)
    cid = document_storage("ipfs").save("documents/forged", ContentFile(sealed.ciphertext))
    Document.objects.filter(pk=original.pk).update(
        location=cid, encryption=sealed.metadata, sha256=forged.sha256
    )
    original.refresh_from_db()

    check = document_check(original).check

    assert not check.ok
    assert check.detail == "The document differs from its ledger anchor in cid, sha256."


def test_when_kubo_does_not_answer_the_upload_is_refused_and_nothing_saved(world, settings):
    settings.STORAGES = {
        **settings.STORAGES,
        "documents:ipfs": {
            "BACKEND": "registry.storage.ipfs.IpfsStorage",
            "OPTIONS": {"api_url": "http://127.0.0.1:9", "timeout": 2},
        },
    }
    settings.DOCUMENT_STORAGE = "ipfs"
    with pytest.raises(StorageUnavailable) as unavailable:
        upload(world)
    assert unavailable.value.http_status == 503 and unavailable.value.retryable
    assert "IPFS" in unavailable.value.message
    assert not Document.objects.exists()


def test_on_oci_the_object_is_stored_and_checked_on_every_read(world, on_oci, client):
    document = upload(world)

    assert document.storage_backend == "oci" and document.encryption == {}
    assert on_oci.objects[document.location].data == PDF
    assert get_ledger().get_change(str(document.ledger_change_id))["cid"] == ""
    client.force_login(world.owner)
    served = client.get(reverse("document-download", args=[document.application_id, document.pk]))
    assert served.status_code == 200 and served.content == PDF

    # Altered in the bucket behind the app's back: withheld and reported.
    on_oci.objects[document.location].data = PDF.replace(b"red", b"blue")
    refused = client.get(reverse("document-download", args=[document.application_id, document.pk]))
    assert refused.status_code == 409 and b"withheld" in refused.content
    document.refresh_from_db()
    assert document.check_ok is False


def test_a_document_stays_readable_after_the_storage_setting_changes(world, on_oci, settings):
    document = upload(world)
    settings.DOCUMENT_STORAGE = "filesystem"
    assert document_check(document).check.ok


def test_an_upload_page_says_when_the_store_is_down(world, settings, client):
    settings.STORAGES = {
        **settings.STORAGES,
        "documents:ipfs": {
            "BACKEND": "registry.storage.ipfs.IpfsStorage",
            "OPTIONS": {"api_url": "http://127.0.0.1:9", "timeout": 2},
        },
    }
    settings.DOCUMENT_STORAGE = "ipfs"
    application = draft_application(world)
    client.force_login(world.owner)
    response = client.post(
        reverse("document-add", args=[application.pk]),
        {"doc_type": "sales_invoice", "file": SimpleUploadedFile("invoice.pdf", PDF)},
    )
    assert response.status_code == 503
    assert b"The document store (IPFS) is not answering; try again." in response.content
    assert not Document.objects.exists()


def test_a_master_key_rotation_keeps_every_document_readable(world, on_ipfs, settings):
    old_key, new_key = secrets.token_hex(32), secrets.token_hex(32)
    settings.DOCUMENT_MASTER_KEY = old_key
    document = upload(world)
    old_id = document.encryption["key_id"]

    # Rotate: the new key seals, the old one is still read until the keys are re-wrapped.
    settings.DOCUMENT_MASTER_KEY, settings.DOCUMENT_PREVIOUS_MASTER_KEYS = new_key, [old_key]
    assert document_check(document).check.ok
    out = io.StringIO()
    call_command("rewrap_document_keys", stdout=out)
    assert out.getvalue().startswith("1 document key(s) re-wrapped under master key")
    document.refresh_from_db()
    assert document.encryption["key_id"] not in ("", old_id)

    # The old key can go: the file, its CID and its ledger anchor never changed.
    settings.DOCUMENT_PREVIOUS_MASTER_KEYS = []
    check = document_check(document).check
    assert check.ok, check.detail
    call_command("rewrap_document_keys", stdout=out)
    assert "0 document key(s) re-wrapped" in out.getvalue()


def test_a_document_sealed_under_a_key_no_longer_held_is_named(world, on_ipfs, settings):
    settings.DOCUMENT_MASTER_KEY = secrets.token_hex(32)
    document = upload(world)
    settings.DOCUMENT_MASTER_KEY = secrets.token_hex(32)

    check = document_check(document).check

    assert not check.ok
    assert f"Sealed under master key {document.encryption['key_id']!r}" in check.detail
    with pytest.raises(CommandError, match=str(document.public_id)):
        call_command("rewrap_document_keys", stdout=io.StringIO())
