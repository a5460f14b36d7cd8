"""Recompute the embedded ledger and check the app's history against it."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from audit.verification import history_problems
from ledger import get_ledger


class Command(BaseCommand):
    help = (
        "Recompute the hash chain, Merkle tree, tree-head signatures and world state of the "
        "embedded ledger, and compare every status-history row with its ledger change. "
        "Names the first entry that does not match and exits non-zero."
    )

    def handle(self, *args: object, **options: object) -> None:
        ledger = get_ledger()
        if not ledger.is_transparency_log:
            raise CommandError(
                "verify_ledger recomputes the embedded ledger; use reconcile_ledger."
            )
        replay = ledger.replay()
        changes = replay.changes()
        problems = replay.problems + history_problems(
            backend=ledger.name,
            ledger_change=changes.get,
            ledger_change_ids=set(changes),
        )
        if problems:
            self.stderr.write(f"FIRST MISMATCH: {problems[0]}")
            for problem in problems[1:]:
                self.stderr.write(f"  also: {problem}")
            raise CommandError(f"{len(problems)} problem(s) found in the ledger.")
        self.stdout.write(
            f"OK: {replay.size} entries, Merkle root {replay.root}, "
            f"{len(replay.state)} world-state keys, {len(changes)} changes match the database."
        )
