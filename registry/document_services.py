"""Evidence: who may attach what, what a file must be to be accepted, and proving it unchanged.

An upload is checked (type from the bytes, size per document type, a plain name), stored in
the configured backend (sealed first when the backend's content is public, as on IPFS),
and its SHA-256 anchored on the ledger by RecordDocument in the same transaction as its row.
Every read recomputes the digest and compares it with the row and with the ledger.
"""

from __future__ import annotations

import hashlib
import logging
import unicodedata
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kernel.errors import DomainError, PermissionDenied
from kernel.i18n import Message
from ledger import get_ledger
from ledger.base import DocumentAnchor
from notifications.services import notify
from organisations.access import Action, Caller
from organisations.selectors import lto_staff
from registry import access
from registry.events import DOCUMENT_INTEGRITY_FAILED
from registry.models import Document, DocumentRequirement, RegistrationApplication
from registry.origins import ORIGIN_SUPPLIED_DOCUMENTS, supplied_by_origin
from registry.storage import document_storage, encrypts_before_storing

if TYPE_CHECKING:
    from django.contrib.auth.models import User
    from django.core.files.storage import Storage

logger = logging.getLogger(__name__)

PDF = "application/pdf"
PNG = "image/png"
JPEG = "image/jpeg"
MEDIA_TYPE_NAMES = {PDF: "PDF", PNG: "PNG", JPEG: "JPEG"}

# The media type is read from the first bytes, never from the name or the browser's claim.
# Types we refuse are named too, so a disguised file gets a message that says what it is.
_SIGNATURES = {
    b"%PDF-": PDF,
    b"\x89PNG\r\n\x1a\n": PNG,
    b"\xff\xd8\xff": JPEG,
    b"PK\x03\x04": "application/zip",
    b"MZ": "application/x-msdownload",
    b"\x7fELF": "application/x-executable",
    b"GIF8": "image/gif",
    b"<!DOCTYPE html": "text/html",
    b"<html": "text/html",
    b"<svg": "image/svg+xml",
    b"<?xml": "application/xml",
}
_CONTENT_NAMES = {
    PDF: "a PDF",
    PNG: "a PNG image",
    JPEG: "a JPEG image",
    "application/zip": "a ZIP archive (or Office document)",
    "application/x-msdownload": "a Windows program",
    "application/x-executable": "a program",
    "image/gif": "a GIF image",
    "text/html": "a web page",
    "image/svg+xml": "an SVG drawing",
    "application/xml": "an XML file",
}

MB = 1024 * 1024


@dataclass(frozen=True)
class DocumentRule:
    """What a document type accepts: media types read from the content, and a size cap."""

    media_types: tuple[str, ...]
    max_bytes: int

    def describe(self) -> str:
        names = [MEDIA_TYPE_NAMES[media_type] for media_type in self.media_types]
        kinds = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]
        return f"{kinds}, at most {filesizeformat(self.max_bytes)}"


_SCANS = DocumentRule((PDF, PNG, JPEG), 10 * MB)
# Photos straight from a phone: images only, and a photo has no business being 10 MB.
_PHOTOS = DocumentRule((PNG, JPEG), 5 * MB)
DOCUMENT_RULES: dict[str, DocumentRule] = {
    **{doc_type: _SCANS for doc_type in Document.Type.values},
    Document.Type.STENCIL_PHOTO: _PHOTOS,
    Document.Type.GOVERNMENT_ID: DocumentRule((PDF, PNG, JPEG), 5 * MB),
}
MAX_DOCUMENT_BYTES = max(rule.max_bytes for rule in DOCUMENT_RULES.values())
MAX_NAME_LENGTH = 200


def sniff_media_type(head: bytes) -> str | None:
    for signature, media_type in _SIGNATURES.items():
        if head.startswith(signature):
            return media_type
    return None


def check_file_name(name: str) -> str:
    """A plain file name, or a ValidationError: it is shown to people and used in headers."""
    if not name or not name.strip():
        raise ValidationError({"file": _("The file has no name.")})
    if any(part in name for part in ("/", "\\", "\x00")) or name.strip(".") == "":
        raise ValidationError(
            {"file": _("The file name must be a plain name, without folders or '..'.")}
        )
    if name.startswith(".") or any(unicodedata.category(char) == "Cc" for char in name):
        raise ValidationError(
            {"file": _("The file name must not start with a dot or hold control characters.")}
        )
    if len(name) > MAX_NAME_LENGTH:
        raise ValidationError(
            {
                "file": Message(
                    _("The file name is longer than %(limit)s characters."),
                    {"limit": MAX_NAME_LENGTH},
                )
            }
        )
    return name


def _checked_content(doc_type: str, upload: UploadedFile) -> tuple[str, str, bytes]:
    """Validate an upload for its document type; return its name, media type and bytes."""
    if doc_type not in Document.Type.values:
        raise ValidationError({"doc_type": _("Choose the kind of document.")})
    rule = DOCUMENT_RULES[doc_type]
    name = check_file_name(upload.name or "")
    if not upload.size:
        raise ValidationError({"file": _("The file is empty.")})
    if upload.size > rule.max_bytes:
        raise ValidationError(
            {
                "file": Message(
                    _("A %(document)s can be at most %(limit)s; this file is %(size)s."),
                    {
                        "document": str(Document.Type(doc_type).label).lower(),
                        "limit": filesizeformat(rule.max_bytes),
                        "size": filesizeformat(upload.size),
                    },
                )
            }
        )
    upload.seek(0)
    content = upload.read()
    media_type = sniff_media_type(content[:16])
    if media_type not in rule.media_types:
        found = _CONTENT_NAMES.get(media_type or "")
        what = (
            Message(_("This file is %(found)s"), {"found": found})
            if found
            else _("This file's content is not recognised")
        )
        raise ValidationError(
            {
                "file": Message(
                    _("%(what)s, whatever its name says. A %(document)s must be %(allowed)s."),
                    {
                        "what": what,
                        "document": str(Document.Type(doc_type).label).lower(),
                        "allowed": rule.describe(),
                    },
                )
            }
        )
    return name, media_type, content


def anchor_of(document: Document, *, vin: str = "", signer_msp: str = "") -> DocumentAnchor:
    """What the ledger anchors of a document: built here for the upload, and again from the
    row whenever the document is checked (which compares what ``recorded()`` names, so the
    VIN and signer are needed only to write)."""
    return DocumentAnchor(
        document_id=str(document.public_id),
        vin=vin,
        document_type=document.doc_type,
        sha256=document.sha256,
        cid=document.cid,
        change_id=str(document.ledger_change_id),
        signer_msp=signer_msp,
    )


def seller_documents(application_type: str) -> set[str]:
    """The document types the seller files for an application type (the deed of sale)."""
    return set(
        DocumentRequirement.objects.filter(
            application_type=application_type,
            filed_by=DocumentRequirement.FiledBy.SELLER,
            is_active=True,
        ).values_list("doc_type", flat=True)
    )


@dataclass(frozen=True)
class ChecklistItem:
    """One paper an application needs: what it is, who uploads it, and whether it is there."""

    doc_type: str
    label: str
    description: str
    filed_by: str
    filed_by_label: str
    uploaded: bool

    @property
    def status(self) -> str:
        return "uploaded" if self.uploaded else "missing"


def document_checklist(application: RegistrationApplication) -> list[ChecklistItem]:
    """The papers the application's type needs (requirements in force), each uploaded or
    missing: two queries, whoever looks."""
    filed = set(application.documents.values_list("doc_type", flat=True))
    requirements = DocumentRequirement.objects.filter(
        application_type=application.type, is_active=True
    )
    from_origin = supplied_by_origin(application)
    if from_origin is not None:
        requirements = requirements.annotate(from_origin=from_origin)
    return [
        ChecklistItem(
            doc_type=requirement.doc_type,
            label=requirement.get_doc_type_display(),
            description=requirement.description,
            filed_by=requirement.filed_by,
            filed_by_label=requirement.get_filed_by_display(),
            uploaded=requirement.doc_type in filed
            or (
                getattr(requirement, "from_origin", False)
                and requirement.doc_type in ORIGIN_SUPPLIED_DOCUMENTS
            ),
        )
        for requirement in requirements
    ]


def missing_documents(checklist: list[ChecklistItem]) -> list[ChecklistItem]:
    return [item for item in checklist if not item.uploaded]


class DocumentsMissing(DomainError):
    """A filing refused because required papers are missing; uploading them lets it through."""

    code = "documents_missing"
    http_status = 422

    def __init__(self, missing: list[ChecklistItem]) -> None:
        names = [
            item.label + (" (the seller uploads it)" if item.filed_by == "seller" else "")
            for item in missing
        ]
        listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
        super().__init__(
            f"Still missing: {listed}. Upload {'it' if len(names) == 1 else 'them'}, then file "
            "the application; nothing was filed."
        )
        self.missing = missing
        self.fields = {"missing_documents": [item.doc_type for item in missing]}


def require_documents(application: RegistrationApplication) -> None:
    """Refuse, naming each missing paper, unless the application has every one it needs."""
    missing = missing_documents(document_checklist(application))
    if missing:
        raise DocumentsMissing(missing)


@transaction.atomic(durable=True)
def document_upload(
    *,
    application_id: int,
    uploader: User,
    doc_type: str,
    upload: UploadedFile,
    clearance_request_id: int | None = None,
) -> Document:
    """Attach a file to an application (or one of its clearances) and anchor it on the ledger.

    Nothing is left behind when anything fails: the stored file is removed again if the
    row or the ledger write does not go through.
    """
    return document_attach(
        application_id=application_id,
        uploader=uploader,
        doc_type=doc_type,
        upload=upload,
        clearance_request_id=clearance_request_id,
    )


def document_attach(
    *,
    application_id: int,
    uploader: User,
    doc_type: str,
    upload: UploadedFile,
    clearance_request_id: int | None = None,
) -> Document:
    """``document_upload`` inside a caller's transaction (a deregistration's evidence is
    saved with the deregistration, or not at all)."""
    from organisations.selectors import lto_organisation

    if doc_type in Document.HOLD_TYPES:
        raise ValidationError({"doc_type": _("A hold's evidence is filed with the hold.")})
    application = (
        RegistrationApplication.objects.select_for_update(of=("self",))
        .select_related("vehicle")
        .get(pk=application_id)
    )
    request = None
    if clearance_request_id is not None:
        request = (
            application.clearance_requests.select_related("organisation")
            .filter(pk=clearance_request_id)
            .first()
        )
        if request is None:
            raise ValidationError(
                {"clearance_request": _("That clearance is not of this application.")}
            )
    caller = Caller(uploader)
    # Evidence for a clearance comes from the officers of the organisation asked for it.
    is_officer = request is not None and caller.acts_for(request.organisation_id)
    if not is_officer:
        if Action.UPLOAD_DOCUMENT not in access.permitted_actions(caller, application):
            raise PermissionDenied(_("You cannot add documents to this application."))
        if Action.UPLOAD_DOCUMENT not in access.allowed_actions(caller, application):
            raise ValidationError(
                _("Documents cannot be added to a %(status)s application."),
                params={"status": application.status},
            )
        if access.is_seller(caller, application) and doc_type not in seller_documents(
            application.type
        ):
            raise PermissionDenied(_("As the seller you file only the deed of sale here."))
    # Officers anchor their evidence as their organisation; the LTO anchors the rest.
    signer = request.organisation if request is not None and is_officer else lto_organisation()
    return document_store(
        uploader=uploader,
        doc_type=doc_type,
        upload=upload,
        vin=application.vehicle.vin,
        signer_msp=signer.msp_id,
        application=application,
        clearance_request=request,
    )


def document_store(
    *,
    uploader: User,
    doc_type: str,
    upload: UploadedFile,
    vin: str,
    signer_msp: str,
    application: RegistrationApplication | None = None,
    # A clearance.ClearanceRequest: registry models name it by string, and import none of it.
    clearance_request: Any = None,
) -> Document:
    """Check, store (sealed where the store is public), row and anchor one file, in the
    caller's transaction: the one path every piece of evidence takes, whoever may attach it
    (``document_attach`` checks that for an application's papers; a hold's evidence, which
    has no application, is checked by ``registry.holds``)."""
    name, media_type, content = _checked_content(doc_type, upload)
    public_id = uuid.uuid4()
    digest = hashlib.sha256(content).hexdigest()
    backend = settings.DOCUMENT_STORAGE
    storage = document_storage(backend)
    stored, encryption = content, {}
    if encrypts_before_storing(storage):
        from registry.storage.sealing import seal

        sealed = seal(content, associated_data=public_id.bytes)
        stored, encryption = sealed.ciphertext, sealed.metadata
    location = storage.save(f"documents/{public_id}", ContentFile(stored))
    try:
        document = Document(
            public_id=public_id,
            application=application,
            clearance_request=clearance_request,
            doc_type=doc_type,
            original_name=name,
            media_type=media_type,
            size=len(content),
            sha256=digest,
            uploaded_by=uploader,
            storage_backend=backend,
            location=location,
            encryption=encryption,
            ledger_change_id=uuid.uuid4(),
            checked_at=timezone.now(),
            check_ok=True,
            check_detail="Checked at upload.",
        )
        # The ledger last: if it refuses or cannot be reached, the row is rolled back too.
        receipt = get_ledger().record_document(anchor_of(document, vin=vin, signer_msp=signer_msp))
        document.record_receipt(receipt)
        document.save(force_insert=True)
    except BaseException:
        _discard(storage, location)
        raise
    return document


def document_discard(document: Document) -> None:
    """Remove the stored file of a document whose transaction is failing after it was stored
    (a deregistration's or a hold's evidence, saved with it or not at all)."""
    _discard(document_storage(document.storage_backend), document.location)


def _discard(storage: Storage, location: str) -> None:
    """Remove a file whose row never made it; a failure here is logged, not raised over
    the error that got us here."""
    try:
        storage.delete(location)
    except Exception:
        logger.exception("Could not remove the orphaned document file %s", location)


@dataclass(frozen=True)
class IntegrityCheck:
    ok: bool
    detail: str


@dataclass(frozen=True)
class CheckedDocument:
    """A document's bytes and what checking them against the row and the ledger found."""

    content: bytes | None
    check: IntegrityCheck


def document_check(document: Document) -> CheckedDocument:
    """Read the stored file, open its seal, recompute its SHA-256 and compare it with the row
    and with the ledger's anchor. The result is recorded on the row; a failure is reported.

    Raises StorageUnavailable or LedgerUnavailable (retryable) when a service does not answer:
    that says nothing about the file, so nothing is recorded.
    """
    content, check = _read_and_compare(document)
    _record(document, check)
    return CheckedDocument(content if check.ok else None, check)


def _read_and_compare(document: Document) -> tuple[bytes | None, IntegrityCheck]:
    try:
        with document_storage(document.storage_backend).open(document.location, "rb") as stored:
            content = stored.read()
    except FileNotFoundError:
        return None, IntegrityCheck(False, "The stored file is missing.")
    if document.encryption:
        from registry.storage.sealing import SealBroken, unseal

        try:
            content = unseal(content, document.encryption, associated_data=document.public_id.bytes)
        except SealBroken as exc:
            return None, IntegrityCheck(False, f"The stored file cannot be opened: {exc}")
    digest = hashlib.sha256(content).hexdigest()
    if digest != document.sha256:
        return None, IntegrityCheck(
            False, "The stored file does not match the SHA-256 taken when it was uploaded."
        )
    if document.ledger_change_id is None:
        return None, IntegrityCheck(False, "The document was never anchored on the ledger.")
    anchored = get_ledger().get_change(str(document.ledger_change_id))
    if anchored is None:
        return None, IntegrityCheck(False, "The ledger has no record of this document.")
    expected = {**anchor_of(document).recorded(), "tx_id": document.ledger_tx_id}
    differing = sorted(key for key, value in expected.items() if anchored.get(key) != value)
    if differing:
        return None, IntegrityCheck(
            False, "The document differs from its ledger anchor in " + ", ".join(differing) + "."
        )
    return content, IntegrityCheck(
        True, f"SHA-256 matches the ledger anchor (transaction {document.ledger_tx_id[:12]}…)."
    )


def _record(document: Document, check: IntegrityCheck) -> None:
    first_failure = not check.ok and document.check_ok is not False
    now = timezone.now()
    Document.objects.filter(pk=document.pk).update(
        checked_at=now, check_ok=check.ok, check_detail=check.detail[:300]
    )
    document.checked_at, document.check_ok, document.check_detail = now, check.ok, check.detail
    if first_failure:
        _report_failure(document, check)


def _report_failure(document: Document, check: IntegrityCheck) -> None:
    """Tell the LTO's staff, once per failing document: an altered file is an incident."""
    logger.error(
        "Document %s (%s of %s) failed its integrity check: %s",
        document.public_id,
        document.doc_type,
        document.belongs_to,
        check.detail,
    )
    link = (
        reverse("document-detail", args=[document.application_id, document.pk])
        if document.application_id
        else reverse("hold-evidence", args=[document.public_id])
    )
    with transaction.atomic():
        notify(
            recipients=lto_staff(),
            event=DOCUMENT_INTEGRITY_FAILED,
            title=Message(
                pgettext_lazy("sms", "A document of %(owner)s failed its integrity check"),
                {"owner": str(document.belongs_to)},
            ),
            body=f"{document.get_doc_type_display()} ({document.original_name}): {check.detail}",
            link=link,
            dedupe_key=f"document-integrity:{document.public_id}",
        )


@dataclass
class VerificationRun:
    """What checking many documents found: counts, and each failure or unreadable document."""

    checked: int = 0
    failures: list[tuple[Document, str]] = field(default_factory=list)
    unreadable: list[tuple[Document, str]] = field(default_factory=list)

    def summary(self) -> str:
        text = f"{self.checked} documents checked, {len(self.failures)} failed"
        if self.unreadable:
            text += f", {len(self.unreadable)} could not be read"
        return text + "."


def documents_verify(
    documents: Iterable[Document] | None = None,
    *,
    on_result: Callable[[Document, IntegrityCheck | None, str], None] | None = None,
) -> VerificationRun:
    """Check every document (or those given); failures are recorded and reported as on a read.

    A store or the ledger not answering says nothing about a file: such documents are listed
    as unreadable and checked again next time.
    """
    from kernel.errors import DomainError

    if documents is None:
        documents = (
            Document.objects.select_related("application").order_by("pk").iterator(chunk_size=500)
        )
    run = VerificationRun()
    for document in documents:
        run.checked += 1
        try:
            check = document_check(document).check
        except DomainError as exc:
            run.unreadable.append((document, str(exc)))
            if on_result:
                on_result(document, None, str(exc))
            continue
        if not check.ok:
            run.failures.append((document, check.detail))
        if on_result:
            on_result(document, check, check.detail)
    return run


def document_keys_rewrap() -> tuple[int, int]:
    """After a master-key rotation: wrap every sealed document's key under the current master
    key. The stored files, their CIDs and their ledger anchors do not change.

    Returns (re-wrapped, already current). A document whose key does not unwrap stops the run
    with SealBroken, naming it; those before it stay re-wrapped (each is its own transaction).
    """
    from registry.storage.sealing import SealBroken, current_key_id, rewrap

    current = current_key_id()
    rewrapped = unchanged = 0
    sealed = Document.objects.exclude(encryption={}).order_by("pk")
    for pk in sealed.values_list("pk", flat=True).iterator(chunk_size=1000):
        with transaction.atomic():
            document = Document.objects.select_for_update().get(pk=pk)
            if document.encryption.get("key_id") == current:
                unchanged += 1
                continue
            try:
                metadata = rewrap(document.encryption, associated_data=document.public_id.bytes)
            except SealBroken as exc:
                raise SealBroken(f"Document {document.public_id}: {exc}") from exc
            Document.objects.filter(pk=pk).update(encryption=metadata)
            rewrapped += 1
    return rewrapped, unchanged
