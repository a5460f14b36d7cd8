"""Follow the Fabric ledger's events and confirm each receipt's block."""

from __future__ import annotations

import time
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from ledger import get_ledger, keepers
from ledger.exceptions import LedgerUnavailable
from ledger.fabric.listener import DEFAULT_LISTENER, follow

# After a restart the peers need up to 30 s to find each other: keep trying that long.
_MAX_BACKOFF_SECONDS = 30.0


class Command(BaseCommand):
    help = (
        "Follow the events of every ledger write (clearance changes, registrations, document "
        "anchors) from the checkpoint stored in the database and mark each row's ledger "
        "confirmation. An event whose row is not committed yet is waited for while its "
        "writer's transaction is open, and reported as a ledger-only change (for "
        "reconcile_ledger --repair) once that transaction has ended without it. Resumes "
        "where it stopped after a restart."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--name", default=DEFAULT_LISTENER, help="Checkpoint name.")
        parser.add_argument(
            "--idle-seconds",
            type=float,
            default=None,
            help="Stop after this long without an event (default: follow for ever).",
        )

    def handle(self, *args: object, **options: Any) -> None:
        ledger = get_ledger()
        if not ledger.streams_events:
            raise CommandError(
                "ledger_listen follows the Fabric ledger; set LEDGER_BACKEND=fabric."
            )
        name = str(options["name"])
        idle = options["idle_seconds"]
        backoff = 1.0
        while True:
            try:
                events = follow(ledger, handle=keepers.confirm, name=name, idle_seconds=idle)
                for outcome in events:
                    backoff = 1.0
                    self.stdout.write(
                        f"block {outcome.block} tx {outcome.tx_id[:16]} "
                        f"change {outcome.change_id or '-'}: {outcome.note}"
                    )
            except LedgerUnavailable as exc:
                if idle is not None:
                    raise CommandError(f"The ledger is unavailable: {exc}") from exc
                self.stderr.write(f"{exc}; reconnecting in {backoff:.0f} s")
                time.sleep(backoff)
                backoff = min(backoff * 2, _MAX_BACKOFF_SECONDS)
                continue
            if idle is not None:
                return
