"""Compare the ledger with the database, list every difference, and repair what it can."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from audit.verification import (
    compare_history,
    repair_ledger_only,
    state_problems,
    unconfirmed_problems,
)
from ledger import get_ledger
from ledger.exceptions import LedgerError


class Command(BaseCommand):
    help = (
        "Compare every row recorded on the configured ledger (clearance and application "
        "history, document anchors, ownership transfers) with the change the ledger holds "
        "for its change id; list the ledger's changes that have no row; compare the current "
        "statuses of requests, applications and vehicles (and their owners) with the "
        "ledger's world state; and list receipts whose ledger event was not seen within "
        "LEDGER_UNCONFIRMED_AFTER_SECONDS. With --repair, write each ledger-only change back "
        "into the database first. Exit status 1 when any difference remains, 2 when the "
        "ledger cannot be read."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--idle-seconds",
            type=float,
            default=3.0,
            help="How long the ledger's event stream must be quiet before its listing of "
            "changes is taken as complete (default 3).",
        )
        parser.add_argument(
            "--repair",
            action="store_true",
            help="Bring the database in line with each change the ledger committed and the "
            "database lacks (history row with its receipt, status, notifications), marked "
            "as repaired from the ledger.",
        )

    def handle(self, *args: object, **options: Any) -> None:
        ledger = get_ledger()
        try:
            change_ids = (
                ledger.change_ids(idle_seconds=float(options["idle_seconds"]))
                if ledger.lists_changes
                else None
            )
            comparison = compare_history(
                backend=ledger.name, ledger_change=ledger.get_change, ledger_change_ids=change_ids
            )
            if options["repair"] and comparison.ledger_only:
                for repair in repair_ledger_only(
                    ledger_only=comparison.ledger_only, backend=ledger.name
                ):
                    verdict = "REPAIRED" if repair.repaired else "NOT REPAIRED"
                    self.stdout.write(
                        f"{verdict}: ledger change {repair.change_id}: {repair.detail}"
                    )
                comparison = compare_history(
                    backend=ledger.name,
                    ledger_change=ledger.get_change,
                    ledger_change_ids=change_ids,
                )
            problems = [*comparison.problems, *state_problems(ledger)]
        except LedgerError as exc:
            raise CommandError(
                f"Could not read the {ledger.name} ledger: {exc}", returncode=2
            ) from exc
        if ledger.streams_events:
            problems += unconfirmed_problems(
                backend=ledger.name,
                older_than_seconds=float(settings.LEDGER_UNCONFIRMED_AFTER_SECONDS),
            )
        for problem in problems:
            self.stdout.write(f"DIFFERENCE: {problem}")
        if problems:
            raise CommandError(f"{len(problems)} difference(s) between the ledger and database.")
        listed = "" if change_ids is None else f" and {len(change_ids)} ledger changes"
        self.stdout.write(f"OK: the database's history{listed} match the {ledger.name} ledger.")
