"""Handing work to Celery after a commit, without letting a broker outage become an error.

Tasks are queued by name, so a module that queues work never imports the module that does
it (no import cycle between services and tasks). ``Task.delay`` on the registered task is
used rather than ``send_task``: it honours ``CELERY_TASK_ALWAYS_EAGER`` (the embedded
default runs tasks in-process).
"""

from __future__ import annotations

import logging
from functools import cache
from typing import Any

from celery import Task, current_app

logger = logging.getLogger(__name__)


@cache
def _tasks_loaded() -> bool:
    # What a worker does at start-up: import every installed app's tasks module, so the web
    # process knows each task by name too.
    current_app.loader.import_default_modules()
    return True


def task_named(name: str) -> Task:
    """The registered task ``name`` (e.g. "notifications.tasks.push_live"); a KeyError for a
    name no app registers is a programming error, raised rather than logged."""
    _tasks_loaded()
    return current_app.tasks[name]


def queue_or_log(task_name: str, *args: Any, failure: str) -> None:
    """Queue the task ``task_name`` with ``args``; if the broker is down, log ``failure`` and
    carry on.

    Callers run after commit: the change and its rows are already saved, and a periodic sweep
    (or the next page load, for live updates) catches up once the broker is back.
    """
    task = task_named(task_name)
    try:
        task.delay(*args)
    except Exception:  # any broker or transport failure; the database already has the work
        logger.warning(failure, exc_info=True)
