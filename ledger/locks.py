"""Whether the database transaction that wrote a ledger change is still open.

A ledger commits before the database transaction that asked for the write does, so a
listener can see a change's event before its row exists. The writing transaction holds a
transaction-scoped PostgreSQL advisory lock keyed on the change id from before the ledger
write until it ends; a listener that can take that lock knows the writer has finished, so a
row still missing then will never come (the transaction rolled back).

Other databases have no such lock: there the writer takes nothing and every writer is
taken as finished.
"""

from __future__ import annotations

import hashlib

from django.db import connection


def _key(change_id: str) -> int:
    # A signed 64-bit key, as pg_advisory_xact_lock takes it.
    digest = hashlib.sha256(f"ledger-change:{change_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _supported() -> bool:
    return connection.vendor == "postgresql"


def hold_change(change_id: str) -> None:
    """Mark ``change_id`` as being written by this transaction, until it commits or rolls
    back. Outside a transaction there is nothing to wait for, so nothing is taken."""
    if not _supported() or not connection.in_atomic_block:
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_key(change_id)])


def writer_open(change_id: str) -> bool:
    """Whether a transaction writing ``change_id`` is still open.

    The probe takes the lock when it is free, and holds it to the end of the caller's
    transaction: a writer that retries the same change then waits a moment, no more.
    """
    if not _supported():
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [_key(change_id)])
        (taken,) = cursor.fetchone()
    return not taken
