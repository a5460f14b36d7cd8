"""Every change to organisations' people and keys: officers invited and removed, API keys
issued and revoked.

An API key looks like ``tln_<prefix>_<secret>``. The prefix is stored as is (people recognise
their keys by it, and it finds the row); the secret only as its SHA-256, which is enough for
256 random bits. A key acts as the person who created it, limited to the key's organisation
and scopes, so every decision filed with it is attributed to a real, accountable officer.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Iterable
from datetime import timedelta
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kernel.errors import PermissionDenied
from kernel.mail import send_token_link
from organisations import access, key_cache
from organisations.access import Action, Caller
from organisations.models import ApiKey, Membership, Organisation

if TYPE_CHECKING:
    from django.contrib.auth.models import User

KEY_PREFIX = "tln_"
# Writing last_used_at on every request would turn each read into a write.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def key_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _organisation_for(user: User, organisation_id: int, action: Action) -> Organisation:
    """The organisation, if the user may take this action on it; else 403 saying who may."""
    organisation = Organisation.objects.filter(pk=organisation_id).first()
    caller = Caller(user)
    if organisation is None:
        raise PermissionDenied(access.refusal(action))
    access.require(caller, organisation, action)
    return organisation


@transaction.atomic(durable=True)
def api_key_create(
    *,
    organisation_id: int,
    admin: User,
    name: str,
    scopes: Iterable[str],
    expires_at: dt.datetime | None = None,
) -> tuple[ApiKey, str]:
    """Issue a key for an organisation; the plaintext is returned here and never again."""
    _organisation_for(admin, organisation_id, Action.MANAGE_API_KEYS)
    scopes = sorted(set(scopes))
    errors: dict[str, str] = {}
    if not name.strip():
        errors["name"] = "Name the key after the system that will use it."
    if not scopes or not set(scopes) <= set(ApiKey.Scope.values):
        errors["scopes"] = "Choose read, decide or both."
    else:
        unworkable = access.unworkable_scopes(Caller(admin), organisation_id)
        if reasons := [unworkable[scope] for scope in scopes if scope in unworkable]:
            errors["scopes"] = " ".join(reasons)
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
        secret_sha256=key_digest(secret),
        scopes=scopes,
        expires_at=expires_at,
        created_by=admin,
    )
    return key, f"{KEY_PREFIX}{prefix}_{secret}"


@transaction.atomic(durable=True)
def api_key_revoke(*, key_id: int, admin: User) -> ApiKey:
    """Revoke a key at once; revoking it again changes nothing."""
    key = ApiKey.objects.select_for_update().get(pk=key_id)
    _organisation_for(admin, key.organisation_id, Action.MANAGE_API_KEYS)
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at", "updated_at"])
    return key


def api_key_touch(*, key: ApiKey) -> None:
    """Record that the key was used, at most once a minute and without racing other uses."""
    now = timezone.now()
    # A key read from the cache keeps the last_used_at it was cached with; this process and,
    # asked only when neither is recent, the shared cache remember the last use recorded.
    for recorded in (key_cache.used_here, key_cache.recorded_use):
        last = max((t for t in (key.last_used_at, recorded(key.pk)) if t is not None), default=None)
        if last is not None and now - last < LAST_USED_RESOLUTION:
            return
    ApiKey.objects.filter(pk=key.pk).filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_RESOLUTION)
    ).update(last_used_at=now)
    key.last_used_at = now
    key_cache.record_use(key.pk, now)


@transaction.atomic(durable=True)
def membership_invite(
    *,
    organisation_id: int,
    admin: User,
    username: str,
    first_name: str,
    last_name: str,
    email: str,
    role: str,
    site_url: str,
) -> Membership:
    """An org admin adds an officer, who sets their own password from an e-mailed link."""
    from django.contrib.auth import get_user_model

    organisation = _organisation_for(admin, organisation_id, Action.MANAGE_OFFICERS)
    if role not in Membership.Role.values:
        raise ValidationError({"role": _("Choose officer or organisation admin.")})
    User = get_user_model()
    if User.objects.filter(username=username).exists():
        raise ValidationError({"username": _("That username is taken.")})
    user = User(username=username, first_name=first_name, last_name=last_name, email=email)
    user.set_unusable_password()
    user.full_clean()
    user.save(force_insert=True)
    membership = Membership.objects.create(user=user, organisation=organisation, role=role)
    _send_invitation(membership, site_url=site_url)
    return membership


def _send_invitation(membership: Membership, *, site_url: str) -> None:
    send_token_link(
        user=membership.user,
        url_name="password_reset_confirm",
        site_url=site_url,
        subject=_("You have been added to %(organisation)s on Talaan")
        % {"organisation": membership.organisation.name},
        message=_("Hello %(name)s,\n\nSet your password to start:")
        % {"name": membership.user.first_name},
    )


@transaction.atomic(durable=True)
def membership_invitation_resend(*, membership_id: int, admin: User, site_url: str) -> Membership:
    """Send an invited officer a fresh link, while they have not yet set their password."""
    membership = (
        Membership.objects.select_for_update()
        .select_related("user", "organisation")
        .get(pk=membership_id)
    )
    _organisation_for(admin, membership.organisation_id, Action.MANAGE_OFFICERS)
    if not membership.is_active:
        raise ValidationError(_("This officer is deactivated: reactivate them first."))
    if not membership.is_invited:
        raise ValidationError(
            _("%(user)s has already accepted the invitation."), params={"user": membership.user}
        )
    _send_invitation(membership, site_url=site_url)
    return membership


@transaction.atomic(durable=True)
def membership_deactivate(*, membership_id: int, admin: User) -> Membership:
    """An org admin removes an officer's access to the organisation (history stays)."""
    membership = Membership.objects.select_for_update().get(pk=membership_id)
    _organisation_for(admin, membership.organisation_id, Action.MANAGE_OFFICERS)
    if membership.user_id == admin.pk:
        raise ValidationError(_("You cannot deactivate yourself; ask another admin."))
    membership.is_active = False
    membership.save(update_fields=["is_active", "updated_at"])
    return membership


@transaction.atomic(durable=True)
def membership_reactivate(*, membership_id: int, admin: User) -> Membership:
    """An org admin gives a deactivated officer their access back; again changes nothing."""
    membership = Membership.objects.select_for_update().get(pk=membership_id)
    _organisation_for(admin, membership.organisation_id, Action.MANAGE_OFFICERS)
    if not membership.is_active:
        membership.is_active = True
        membership.save(update_fields=["is_active", "updated_at"])
    return membership
