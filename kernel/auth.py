"""Who a request is for, as types: the requests views receive and anyone who may ask.

The user model is Django's own ``auth.User`` (``AUTH_USER_MODEL`` is not set). Annotations
name it with ``from django.contrib.auth.models import User`` under ``TYPE_CHECKING``; code
that needs the class at run time calls ``get_user_model()``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeAlias

from django.http import HttpRequest

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User
    from django_htmx.middleware import HtmxDetails

# A signed-in person, or nobody yet: what ``request.user`` holds before a login gate.
AnyUser: TypeAlias = "User | AnonymousUser"


class HtmxHttpRequest(HttpRequest):
    """A request as ``HtmxMiddleware`` (in every request's path) leaves it."""

    htmx: HtmxDetails


class AuthenticatedHttpRequest(HtmxHttpRequest):
    """A request a login gate (``login_required``) has let through: its user is signed in."""

    user: User
