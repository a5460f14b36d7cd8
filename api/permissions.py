"""Who may call an operation at all: a key's scopes, and owner-only operations."""

from __future__ import annotations

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from api.authentication import caller_key
from organisations.access import Action, Caller, scope_for


class HasKeyScope(BasePermission):
    """A key's scopes must allow the view's ``required_action`` (viewing unless it says
    otherwise), as the access funnel's ``Caller`` answers; people in a session pass."""

    def has_permission(self, request: Request, view: object) -> bool:
        caller = Caller.of(request)
        action = getattr(view, "required_action", Action.VIEW)
        self.message = gettext("This API key lacks the '%(scope)s' scope.") % {
            "scope": scope_for(action)
        }
        return caller.permits(action)


class SessionOnly(BasePermission):
    """Owner-scope operations: people in a browser session, not organisation keys."""

    message = _("API keys act for an organisation; this operation is for signed-in people.")

    def has_permission(self, request: Request, view: object) -> bool:
        return caller_key(request) is None
