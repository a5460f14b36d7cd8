"""Check every stored document against its digest and its ledger anchor."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from registry.documents import document_check
from registry.models import Document
from talaan.errors import DomainError


class Command(BaseCommand):
    help = (
        "Read every document from its storage, open its seal, recompute its SHA-256 and "
        "compare it with the database and the ledger's RecordDocument anchor. Prints each "
        "failure; exits 1 when any document fails, 2 when a store or the ledger does not answer."
    )

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("--application", help="Only the documents of this reference.")

    def handle(self, *args: object, application: str | None = None, **options: object) -> None:
        documents = Document.objects.select_related("application").order_by("pk")
        if application:
            documents = documents.filter(application__reference=application)
        checked = failed = unreachable = 0
        for document in documents.iterator(chunk_size=500):
            checked += 1
            where = (
                f"document {document.public_id} ({document.application.reference}, "
                f"{document.doc_type}, {document.original_name}, on {document.storage_backend})"
            )
            try:
                result = document_check(document).check
            except DomainError as exc:
                # Storage or ledger not answering: nothing is known about the file.
                unreachable += 1
                self.stderr.write(f"UNCHECKED {where}: {exc}")
                continue
            if not result.ok:
                failed += 1
                self.stdout.write(f"FAILED {where}: {result.detail}")
        summary = f"{checked} documents checked, {failed} failed"
        if unreachable:
            summary += f", {unreachable} could not be read"
        self.stdout.write(summary + ".")
        if failed:
            raise CommandError(f"{failed} document(s) failed their integrity check.", returncode=1)
        if unreachable:
            raise CommandError(f"{unreachable} document(s) could not be checked.", returncode=2)
