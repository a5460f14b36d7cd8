"""Who belongs where: memberships, LTO staff, an organisation's people."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet

from chaincode.rules import OrgKind
from kernel.auth import AnyUser
from organisations.models import Membership, Organisation

if TYPE_CHECKING:
    from django.contrib.auth.models import User
else:
    User = get_user_model()


def memberships_of(user: AnyUser) -> QuerySet[Membership]:
    if not user.is_authenticated:
        return Membership.objects.none()
    return Membership.objects.filter(
        user=user, is_active=True, organisation__is_active=True
    ).select_related("organisation")


def is_lto_staff(user: AnyUser) -> bool:
    return memberships_of(user).filter(organisation__kind=OrgKind.LTO).exists()


def dealers_of(user: AnyUser) -> QuerySet[Organisation]:
    """The active dealers (organisations of kind DEALER) the user is an active member of."""
    return Organisation.objects.filter(
        pk__in=memberships_of(user)
        .filter(organisation__kind=OrgKind.DEALER)
        .values("organisation_id")
    ).order_by("name")


def lto_organisation() -> Organisation:
    organisation = Organisation.objects.filter(kind=OrgKind.LTO, is_active=True).first()
    if organisation is None:
        raise Organisation.DoesNotExist("No active LTO organisation is configured.")
    return organisation


def lto_staff() -> QuerySet[User]:
    return User.objects.filter(
        is_active=True,
        memberships__is_active=True,
        memberships__organisation__kind=OrgKind.LTO,
        memberships__organisation__is_active=True,
    ).distinct()


def organisation_people(organisation: Organisation) -> QuerySet[User]:
    return User.objects.filter(
        is_active=True, memberships__organisation=organisation, memberships__is_active=True
    ).distinct()


def active_admins(where: Q) -> list[User]:
    """The active admins of the active organisations ``where`` picks (a membership filter)."""
    # One filter() call, so every condition applies to the same membership row.
    return list(
        User.objects.filter(
            where,
            is_active=True,
            memberships__is_active=True,
            memberships__role=Membership.Role.ADMIN,
            memberships__organisation__is_active=True,
        )
        .distinct()
        .order_by("pk")
    )
