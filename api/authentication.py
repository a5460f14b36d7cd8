"""Requests authenticated with an organisation's API key, and who the caller is."""

from __future__ import annotations

import hmac
from typing import TYPE_CHECKING, Any

from django.utils import timezone
from django.utils.translation import gettext
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication
from rest_framework.request import Request

from organisations.key_cache import key_for_prefix
from organisations.models import ApiKey
from organisations.services import KEY_PREFIX, api_key_touch, key_digest

if TYPE_CHECKING:
    from django.contrib.auth.models import User
    from drf_spectacular.openapi import AutoSchema


def api_key_authenticate(raw: str) -> ApiKey:
    """The live key this plaintext belongs to, or AuthenticationFailed saying why not."""
    parts = raw.split("_", 2)
    if len(parts) != 3 or f"{parts[0]}_" != KEY_PREFIX or not parts[1] or not parts[2]:
        raise exceptions.AuthenticationFailed(
            gettext("Malformed API key; expected tln_<prefix>_<secret>.")
        )
    _, prefix, secret = parts
    key = key_for_prefix(prefix)
    if key is None or not hmac.compare_digest(key.secret_sha256, key_digest(secret)):
        raise exceptions.AuthenticationFailed(gettext("Unknown API key."))
    if key.revoked_at is not None:
        raise exceptions.AuthenticationFailed(gettext("This API key was revoked."))
    if key.expires_at is not None and key.expires_at <= timezone.now():
        raise exceptions.AuthenticationFailed(gettext("This API key has expired."))
    if not key.created_by.is_active or not key.organisation.is_active:
        raise exceptions.AuthenticationFailed(
            gettext("This API key's owner or organisation is inactive.")
        )
    return key


class ApiKeyAuthentication(BaseAuthentication):
    """``Authorization: Bearer tln_...`` or ``X-Api-Key: tln_...``.

    An ``Authorization`` header in any other scheme, or blank, is refused (401), not
    ignored: a client that believes it authenticates with it must not be served as whoever
    its session cookie names instead.
    """

    def authenticate(self, request: Request) -> tuple[User, ApiKey] | None:
        raw = request.headers.get("X-Api-Key", "").strip()
        if not raw:
            authorization = request.headers.get("Authorization")
            if authorization is None:
                return None
            scheme, _, token = authorization.strip().partition(" ")
            if scheme.lower() != "bearer":
                raise exceptions.AuthenticationFailed(
                    gettext(
                        "Only API keys authenticate here: send `Authorization: Bearer "
                        "tln_<prefix>_<secret>`, or no Authorization header with a session."
                    )
                )
            raw = token.strip()
        if not raw:
            raise exceptions.AuthenticationFailed(gettext("Empty API key."))
        key = api_key_authenticate(raw)
        api_key_touch(key=key)
        return key.created_by, key

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="talaan"'


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = ApiKeyAuthentication
    name = "apiKey"

    def get_security_definition(self, auto_schema: AutoSchema) -> dict[str, Any]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": (
                "An organisation's API key, `tln_<prefix>_<secret>`, as a bearer token "
                "(or in an `X-Api-Key` header)."
            ),
        }


class AuthenticatedRequest(Request):
    """A request ``IsAuthenticated`` has let through: a person, or the person a key acts as."""

    user: User


def caller_key(request: Request) -> ApiKey | None:
    return request.auth if isinstance(request.auth, ApiKey) else None
