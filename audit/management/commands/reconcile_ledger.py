"""Compare the ledger with the database and list every difference."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from audit.verification import history_problems
from ledger import get_ledger
from ledger.exceptions import LedgerError


class Command(BaseCommand):
    help = (
        "Compare every clearance and application history row recorded on the configured "
        "ledger with the change the ledger holds for its change id, and list the ledger's "
        "clearance changes that have no history row. Exit status 1 when there is any "
        "difference, 2 when the ledger cannot be read."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--idle-seconds",
            type=float,
            default=3.0,
            help="How long the ledger's event stream must be quiet before its listing of "
            "changes is taken as complete (default 3).",
        )

    def handle(self, *args: object, **options: Any) -> None:
        ledger = get_ledger()
        try:
            change_ids = (
                ledger.change_ids(idle_seconds=float(options["idle_seconds"]))
                if ledger.lists_changes
                else None
            )
            problems = history_problems(
                backend=ledger.name, ledger_change=ledger.get_change, ledger_change_ids=change_ids
            )
        except LedgerError as exc:
            raise CommandError(
                f"Could not read the {ledger.name} ledger: {exc}", returncode=2
            ) from exc
        for problem in problems:
            self.stdout.write(f"DIFFERENCE: {problem}")
        if problems:
            raise CommandError(f"{len(problems)} difference(s) between the ledger and database.")
        listed = "" if change_ids is None else f" and {len(change_ids)} ledger changes"
        self.stdout.write(f"OK: the database's history{listed} match the {ledger.name} ledger.")
