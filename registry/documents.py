"""Uploading evidence: who may attach what, and what a file must be to be accepted."""

from __future__ import annotations

import hashlib

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from chaincode.rules import ApplicationStatus
from registry.models import Document, RegistrationApplication
from talaan.errors import PermissionDenied

MAX_DOCUMENT_BYTES = 10 * 1024 * 1024

# The media type is read from the first bytes, never from the name or the browser's claim.
_SIGNATURES = {
    b"%PDF-": "application/pdf",
    b"\x89PNG\r\n\x1a\n": "image/png",
    b"\xff\xd8\xff": "image/jpeg",
}

_OWNER_MAY_UPLOAD = {
    ApplicationStatus.DRAFT,
    ApplicationStatus.SUBMITTED,
    ApplicationStatus.UNDER_REVIEW,
    ApplicationStatus.AWAITING_CLEARANCES,
    ApplicationStatus.RETURNED,
}


def sniff_media_type(head: bytes) -> str | None:
    for signature, media_type in _SIGNATURES.items():
        if head.startswith(signature):
            return media_type
    return None


@transaction.atomic(durable=True)
def document_upload(
    *,
    application_id: int,
    uploader: AbstractBaseUser,
    doc_type: str,
    upload: UploadedFile,
    clearance_request_id: int | None = None,
) -> Document:
    """Attach a PDF, PNG or JPEG of at most 10 MB to an application (or one clearance)."""
    from clearance.selectors import is_lto_staff, memberships_of

    application = RegistrationApplication.objects.select_for_update().get(pk=application_id)
    request = None
    if clearance_request_id is not None:
        request = application.clearance_requests.filter(pk=clearance_request_id).first()
        if request is None:
            raise ValidationError(
                {"clearance_request": "That clearance is not of this application."}
            )
    is_owner = application.applicant_id == uploader.pk
    is_officer = (
        request is not None
        and memberships_of(uploader).filter(organisation_id=request.organisation_id).exists()
    )
    if not (is_owner or is_officer or is_lto_staff(uploader)):
        raise PermissionDenied("You cannot add documents to this application.")
    if is_owner and application.status not in _OWNER_MAY_UPLOAD:
        raise ValidationError(f"Documents cannot be added to a {application.status} application.")
    if doc_type not in Document.Type.values:
        raise ValidationError({"doc_type": "Choose the kind of document."})
    if not upload.size:
        raise ValidationError({"file": "The file is empty."})
    if upload.size > MAX_DOCUMENT_BYTES:
        raise ValidationError({"file": "Files can be at most 10 MB."})
    upload.seek(0)
    media_type = sniff_media_type(upload.read(16))
    if media_type is None:
        raise ValidationError({"file": "Only PDF, PNG and JPEG files are accepted."})
    digest = hashlib.sha256()
    upload.seek(0)
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    name = (upload.name or "upload").replace("\\", "/").rsplit("/", 1)[-1][:200]
    document = Document(
        application=application,
        clearance_request=request,
        doc_type=doc_type,
        original_name=name,
        media_type=media_type,
        size=upload.size,
        sha256=digest.hexdigest(),
        uploaded_by=uploader,
    )
    document.file.save(name, upload, save=False)
    # If the row cannot be written, the stored file must not outlive it.
    try:
        document.save(force_insert=True)
    except Exception:
        document.file.delete(save=False)
        raise
    return document
