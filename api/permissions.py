"""Who may call an operation at all: a key's scopes, and owner-only operations."""

from __future__ import annotations

from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from api.authentication import caller_key
from organisations.models import ApiKey


class HasKeyScope(BasePermission):
    """A key needs the view's ``required_scope`` (read unless said otherwise); sessions pass."""

    def has_permission(self, request: Request, view: object) -> bool:
        key = caller_key(request)
        if key is None:
            return True
        scope = getattr(view, "required_scope", ApiKey.Scope.READ)
        self.message = f"This API key lacks the '{scope}' scope."
        return scope in key.scopes


class SessionOnly(BasePermission):
    """Owner-scope operations: people in a browser session, not organisation keys."""

    message = "API keys act for an organisation; this operation is for signed-in people."

    def has_permission(self, request: Request, view: object) -> bool:
        return caller_key(request) is None
