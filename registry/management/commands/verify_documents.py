"""Check every stored document against its digest and its ledger anchor."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from registry.document_services import IntegrityCheck, documents_verify
from registry.models import Document


class Command(BaseCommand):
    help = (
        "Read every document from its storage, open its seal, recompute its SHA-256 and "
        "compare it with the database and the ledger's RecordDocument anchor. Prints each "
        "failure; exits 1 when any document fails, 2 when a store or the ledger does not answer."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--application", help="Only the documents of this reference.")

    def handle(self, *args: object, application: str | None = None, **options: object) -> None:
        documents = Document.objects.select_related("application").order_by("pk")
        if application:
            documents = documents.filter(application__reference=application)

        def report(document: Document, check: IntegrityCheck | None, detail: str) -> None:
            where = (
                f"document {document.public_id} ({document.belongs_to}, "
                f"{document.doc_type}, {document.original_name}, on {document.storage_backend})"
            )
            if check is None:
                self.stderr.write(f"UNCHECKED {where}: {detail}")
            elif not check.ok:
                self.stdout.write(f"FAILED {where}: {detail}")

        run = documents_verify(documents.iterator(chunk_size=500), on_result=report)
        self.stdout.write(run.summary())
        if run.failures:
            raise CommandError(
                f"{len(run.failures)} document(s) failed their integrity check.", returncode=1
            )
        if run.unreadable:
            raise CommandError(
                f"{len(run.unreadable)} document(s) could not be checked.", returncode=2
            )
