"""The bell's data for every page: evaluated only when a template actually shows the bell."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from notifications.selectors import notifications_for_user, unread_count

BELL_LATEST = 5


def bell(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    # Lazy, so pages and fragments that never include the bell pay no query for it.
    return {
        "unread_count": SimpleLazyObject(lambda: unread_count(user)),
        "bell_latest": notifications_for_user(user)[:BELL_LATEST],
    }
