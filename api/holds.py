"""A hold on a name for as long as one request runs, that dies with the process holding it.

On PostgreSQL it is a session advisory lock taken on the request's own database connection:
if the process is killed, the connection closes and the database lets go at once, so nothing
waits for a timeout. Elsewhere (SQLite, the embedded shape, which serves from one process)
it is kept in this process. A hold is not waited for: ``held`` says at once whether it got it.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import DatabaseError, connection

# The first half of every advisory lock key taken here, so these holds never meet another
# part of the code's advisory locks (which use other classes or the one-number form).
_LOCK_CLASS = 0x1DE4

_local_names: set[str] = set()
_local_guard = threading.Lock()


def _lock_number(name: str) -> int:
    """``name`` as the signed 32-bit second half of the key (a collision only costs a 409)."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:4], "big", signed=True)


@contextmanager
def held(name: str) -> Iterator[bool]:
    """Hold ``name`` for the block if nobody else holds it; yields whether it was got."""
    if connection.vendor != "postgresql":
        with _local_hold(name) as got:
            yield got
        return
    number = _lock_number(name)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [_LOCK_CLASS, number])
        (got,) = cursor.fetchone()
    try:
        yield bool(got)
    finally:
        if got:
            _let_go(number)


def _let_go(number: int) -> None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [_LOCK_CLASS, number])
    except DatabaseError:
        # A connection that cannot unlock must not carry the hold into its next request:
        # closing it ends the database session, and the hold with it.
        connection.close()


@contextmanager
def _local_hold(name: str) -> Iterator[bool]:
    with _local_guard:
        got = name not in _local_names
        _local_names.add(name)
    try:
        yield got
    finally:
        if got:
            with _local_guard:
                _local_names.discard(name)
