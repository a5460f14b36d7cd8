"""API keys for integrators: issuing and revoking them, and authenticating requests with them.

A key looks like ``tln_<prefix>_<secret>``. The prefix is stored as is (people recognise
their keys by it, and it finds the row); the secret only as its SHA-256, which is enough for
256 random bits. A key acts as the person who created it, limited to the key's organisation
and scopes, so every decision filed with it is attributed to a real, accountable officer.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from collections.abc import Iterable
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

from clearance.models import ApiKey, ClearanceRequest, Membership
from clearance.selectors import clearance_requests_for_user, is_lto_staff, memberships_of
from talaan.errors import PermissionDenied

KEY_PREFIX = "tln_"
# Writing last_used_at on every request would turn each read into a write.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _require_key_manager(user: AbstractBaseUser, organisation_id: int) -> None:
    if is_lto_staff(user):
        return
    if (
        not memberships_of(user)
        .filter(organisation_id=organisation_id, role=Membership.Role.ADMIN)
        .exists()
    ):
        raise PermissionDenied("Only the organisation's admins or LTO staff can manage its keys.")


@transaction.atomic(durable=True)
def api_key_create(
    *,
    organisation_id: int,
    admin: AbstractBaseUser,
    name: str,
    scopes: Iterable[str],
    expires_at: dt.datetime | None = None,
) -> tuple[ApiKey, str]:
    """Issue a key for an organisation; the plaintext is returned here and never again."""
    _require_key_manager(admin, organisation_id)
    scopes = sorted(set(scopes))
    errors: dict[str, str] = {}
    if not name.strip():
        errors["name"] = "Name the key after the system that will use it."
    if not scopes or not set(scopes) <= set(ApiKey.Scope.values):
        errors["scopes"] = "Choose read, decide or both."
    if expires_at is not None and expires_at <= timezone.now():
        errors["expires_at"] = "The expiry must be in the future."
    if errors:
        raise ValidationError(errors)
    prefix = secrets.token_hex(4)
    secret = secrets.token_urlsafe(32)
    key = ApiKey.objects.create(
        organisation_id=organisation_id,
        name=name.strip(),
        prefix=prefix,
        secret_sha256=_digest(secret),
        scopes=scopes,
        expires_at=expires_at,
        created_by=admin,
    )
    return key, f"{KEY_PREFIX}{prefix}_{secret}"


@transaction.atomic(durable=True)
def api_key_revoke(*, key_id: int, admin: AbstractBaseUser) -> ApiKey:
    """Revoke a key at once; revoking it again changes nothing."""
    key = ApiKey.objects.select_for_update().get(pk=key_id)
    _require_key_manager(admin, key.organisation_id)
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at", "updated_at"])
    return key


def api_key_touch(*, key: ApiKey) -> None:
    """Record that the key was used, at most once a minute and without racing other uses."""
    now = timezone.now()
    if key.last_used_at is not None and now - key.last_used_at < LAST_USED_RESOLUTION:
        return
    ApiKey.objects.filter(pk=key.pk).filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_RESOLUTION)
    ).update(last_used_at=now)
    key.last_used_at = now


def api_key_authenticate(raw: str) -> ApiKey:
    """The live key this plaintext belongs to, or AuthenticationFailed saying why not."""
    parts = raw.split("_", 2)
    if len(parts) != 3 or f"{parts[0]}_" != KEY_PREFIX or not parts[1] or not parts[2]:
        raise exceptions.AuthenticationFailed("Malformed API key; expected tln_<prefix>_<secret>.")
    _, prefix, secret = parts
    key = ApiKey.objects.select_related("organisation", "created_by").filter(prefix=prefix).first()
    if key is None or not hmac.compare_digest(key.secret_sha256, _digest(secret)):
        raise exceptions.AuthenticationFailed("Unknown API key.")
    if key.revoked_at is not None:
        raise exceptions.AuthenticationFailed("This API key was revoked.")
    if key.expires_at is not None and key.expires_at <= timezone.now():
        raise exceptions.AuthenticationFailed("This API key has expired.")
    if not key.created_by.is_active or not key.organisation.is_active:
        raise exceptions.AuthenticationFailed("This API key's owner or organisation is inactive.")
    return key


class ApiKeyAuthentication(BaseAuthentication):
    """``Authorization: Bearer tln_...`` or ``X-Api-Key: tln_...``."""

    def authenticate(self, request: Request) -> tuple[AbstractBaseUser, ApiKey] | None:
        raw = request.headers.get("X-Api-Key", "").strip()
        if not raw:
            scheme, _, token = request.headers.get("Authorization", "").partition(" ")
            if scheme.lower() != "bearer":
                return None
            raw = token.strip()
        if not raw:
            raise exceptions.AuthenticationFailed("Empty API key.")
        key = api_key_authenticate(raw)
        api_key_touch(key=key)
        return key.created_by, key

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="talaan"'


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = ApiKeyAuthentication
    name = "apiKey"

    def get_security_definition(self, auto_schema):  # type: ignore[no-untyped-def]
        return {
            "type": "http",
            "scheme": "bearer",
            "description": (
                "An organisation's API key, `tln_<prefix>_<secret>`, as a bearer token "
                "(or in an `X-Api-Key` header)."
            ),
        }


def caller_key(request: Request) -> ApiKey | None:
    return request.auth if isinstance(request.auth, ApiKey) else None


class HasKeyScope(BasePermission):
    """A key needs the view's ``required_scope`` (read unless said otherwise); sessions pass."""

    def has_permission(self, request: Request, view: object) -> bool:
        key = caller_key(request)
        if key is None:
            return True
        scope = getattr(view, "required_scope", ApiKey.Scope.READ)
        self.message = f"This API key lacks the '{scope}' scope."
        return scope in key.scopes


class CallerRateThrottle(SimpleRateThrottle):
    """Requests per API key (``API_THROTTLE_KEY``) or per user (``API_THROTTLE_USER``).

    Counts live in the default cache (Redis when ``REDIS_URL`` is set), so every process
    shares them. Rates are read per request, never at import time. Anonymous requests are
    refused by authentication before throttling counts them.
    """

    def __init__(self) -> None:
        # SimpleRateThrottle reads one rate here; ours depends on the caller.
        pass

    def allow_request(self, request: Request, view: object) -> bool:
        key = caller_key(request)
        if key is not None:
            self.scope, self.rate, ident = "key", settings.API_THROTTLE_KEY, key.pk
        elif request.user and request.user.is_authenticated:
            self.scope, self.rate, ident = "user", settings.API_THROTTLE_USER, request.user.pk
        else:
            return True
        self.num_requests, self.duration = self.parse_rate(self.rate)
        self.ident = ident
        return super().allow_request(request, view)

    def get_cache_key(self, request: Request, view: object) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.ident}


class SessionOnly(BasePermission):
    """Owner-scope operations: people in a browser session, not organisation keys."""

    message = "API keys act for an organisation; this operation is for signed-in people."

    def has_permission(self, request: Request, view: object) -> bool:
        return caller_key(request) is None


def clearance_requests_for_caller(request: Request) -> QuerySet[ClearanceRequest]:
    """The user's funnel, further limited to the key's organisation when a key is used."""
    requests = clearance_requests_for_user(request.user)
    key = caller_key(request)
    if key is not None:
        requests = requests.filter(organisation_id=key.organisation_id)
    return requests


def clearance_request_get_for_caller(request: Request, pk: int) -> ClearanceRequest:
    try:
        return clearance_requests_for_caller(request).get(pk=pk)
    except ClearanceRequest.DoesNotExist:
        raise Http404("No such clearance request.") from None
