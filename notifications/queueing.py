"""Handing work to Celery after a commit, without letting a broker outage become an error."""

from __future__ import annotations

import logging
from typing import Any

logger = logging.getLogger(__name__)


def queue_or_log(task: Any, *args: Any, failure: str) -> None:
    """Queue ``task`` with ``args``; if the broker is down, log ``failure`` and carry on.

    Callers run after commit: the change and its rows are already saved, and a periodic sweep
    (or the next page load, for live updates) catches up once the broker is back.
    """
    try:
        task.delay(*args)
    except Exception:  # any broker or transport failure; the database already has the work
        logger.warning(failure, exc_info=True)
