"""Move every sealed document's key under the current DOCUMENT_MASTER_KEY."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from registry.document_services import document_keys_rewrap
from registry.storage.sealing import SealBroken, current_key_id


class Command(BaseCommand):
    help = (
        "After a master-key rotation (new DOCUMENT_MASTER_KEY, the old one in "
        "DOCUMENT_PREVIOUS_MASTER_KEYS): wrap each sealed document's key under the new key. "
        "Files, CIDs and ledger anchors are unchanged. Safe to run again."
    )

    def handle(self, *args: object, **options: object) -> None:
        try:
            rewrapped, unchanged = document_keys_rewrap()
        except SealBroken as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"{rewrapped} document key(s) re-wrapped under master key {current_key_id()}; "
            f"{unchanged} already were. The previous master keys can now be removed."
        )
