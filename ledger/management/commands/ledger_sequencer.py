"""Integrate the embedded ledger's committed entries into its tree and sign checkpoints."""

from __future__ import annotations

import time
from argparse import ArgumentParser
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from ledger import get_ledger, log


class Command(BaseCommand):
    help = (
        "The embedded ledger's sequencer (LEDGER_SEQUENCER=sequencer): give committed entries "
        "their positions in batches, extend the Merkle tree's tiles and sign a checkpoint. "
        "Holds a lease (a PostgreSQL advisory lock) for as long as it runs: a second one "
        "started by mistake refuses to start, so the log cannot fork."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--batch", type=int, default=log.DEFAULT_BATCH)
        parser.add_argument(
            "--interval",
            type=float,
            default=0.01,
            help="Seconds to wait when no entry is waiting (default 0.01).",
        )
        parser.add_argument(
            "--once", action="store_true", help="Integrate what is waiting, then stop."
        )

    def handle(self, *args: object, **options: Any) -> None:
        if not get_ledger().is_transparency_log:
            raise CommandError("ledger_sequencer integrates the embedded ledger's log.")
        if settings.LEDGER_SEQUENCER != "sequencer":
            self.stderr.write(
                "LEDGER_SEQUENCER is 'in-process': writes integrate themselves; running anyway."
            )
        if not log.hold_lease():
            raise CommandError("Another ledger_sequencer holds the lease; not starting a second.")
        self.stdout.write("sequencer: holding the lease, integrating")
        self.stdout.flush()
        try:
            self._run(int(options["batch"]), float(options["interval"]), bool(options["once"]))
        finally:
            log.release_lease()

    def _run(self, batch: int, interval: float, once: bool) -> None:
        total = 0
        while True:
            try:
                done = log.integrate(batch)
            except log.LogForked as exc:
                raise CommandError(str(exc)) from exc
            except DatabaseError as exc:
                self.stderr.write(f"database error, retrying: {exc}")
                done = 0
                time.sleep(1.0)
            total += done
            if once and not done:
                self.stdout.write(f"integrated {total} entries")
                self.stdout.flush()
                return
            if not done:
                time.sleep(interval)
