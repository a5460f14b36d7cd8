"""Watching another session wait: the concurrency tests hold a transaction open until the
session under test is seen blocked on a lock (PostgreSQL's pg_stat_activity), then let go."""

from __future__ import annotations

from django.db import connections


def waits_on_a_lock(pid: int | None) -> bool:
    """Whether the backend ``pid`` is waiting on a lock now (read from a connection of its own)."""
    if pid is None:
        return False
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", [pid])
            row = cursor.fetchone()
    finally:
        other.close()
    return row is not None and row[0] == "Lock"
