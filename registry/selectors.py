"""Reads used by more than one caller, and the access funnel for applications."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext_lazy as _

from kernel.auth import AnyUser
from organisations.selectors import is_lto_staff, lto_staff, memberships_of
from registry import participants
from registry.models import OwnerProfile, RegistrationApplication, Vehicle

if TYPE_CHECKING:
    from organisations.access import Caller


def applications_for_user(user: AnyUser) -> QuerySet[RegistrationApplication]:
    """Every application the user may see: all for LTO staff, those a participant shows their
    organisation (a clearance request for it) for external officers, their own for owners."""
    base = RegistrationApplication.objects.select_related(
        "vehicle", "applicant", "office"
    ).prefetch_related(*participants.application_prefetches())
    if not user.is_authenticated:
        return base.none()
    if is_lto_staff(user):
        return base
    organisation_ids = list(memberships_of(user).values_list("organisation_id", flat=True))
    return _visible(base, user, organisation_ids)


def _visible(
    applications: QuerySet[RegistrationApplication], user: AnyUser, organisation_ids: Iterable[int]
) -> QuerySet[RegistrationApplication]:
    """What someone who is not LTO staff sees: what participants show their organisations if
    they belong to any, else their own applications."""
    organisation_ids = sorted(organisation_ids)
    if organisation_ids:
        return applications.filter(
            participants.applications_visible_to(organisation_ids)
        ).distinct()
    return applications.filter(applicant_id=user.pk)


def applications_seen_by(caller: Caller) -> QuerySet[RegistrationApplication]:
    """``applications_for_user`` from the memberships the caller has read already (one query
    for the whole request, ``Caller.memberships``), limited to a key's organisation; nothing
    prefetched."""
    applications = RegistrationApplication.objects.select_related("vehicle")
    if not caller.is_authenticated:
        return applications.none()
    if not caller.is_lto_staff:
        applications = _visible(applications, caller.user, caller.organisation_ids)
    limit = caller.organisation_limit
    if limit is not None:
        applications = applications.filter(participants.applications_visible_to([limit])).distinct()
    return applications


def people_concerned(application_id: int) -> set[int]:
    """Whose open pages show this application: its owner, LTO staff, and the people of the
    participants working on it (the organisations asked to clear it)."""
    owner = RegistrationApplication.objects.filter(pk=application_id).values_list(
        "applicant_id", flat=True
    )
    return {
        *owner,
        *lto_staff().values_list("pk", flat=True),
        *participants.people_concerned(application_id),
    }


def application_get_for_user(*, user: AnyUser, pk: int) -> RegistrationApplication:
    """The one way to fetch an application for a user: 404 when they may not see it."""
    try:
        return applications_for_user(user).get(pk=pk)
    except RegistrationApplication.DoesNotExist:
        raise Http404(_("No such application.")) from None


def vehicles_of(user: AnyUser) -> QuerySet[Vehicle]:
    """The user's active vehicles, and those the LTO deregistered (kept in view: final)."""
    if not user.is_authenticated:
        return Vehicle.objects.none()
    return (
        Vehicle.objects.filter(owner=user)
        .filter(Q(is_active=True) | Q(deregistration__isnull=False))
        .select_related("origin__dealer", "origin_flag__origin__dealer")
        .order_by("-created_at")
    )


def vehicle_get_for_user(*, user: AnyUser, pk: int) -> Vehicle:
    """One of the user's own vehicles (active or deregistered): 404 for anyone else's."""
    try:
        return vehicles_of(user).get(pk=pk)
    except Vehicle.DoesNotExist:
        raise Http404(_("No such vehicle.")) from None


def owner_mobile_numbers(user_ids: list[int]) -> dict[int, str]:
    """The mobile numbers on these users' owner profiles (officers have no profile)."""
    return dict(
        OwnerProfile.objects.filter(user_id__in=user_ids)
        .exclude(mobile_number="")
        .values_list("user_id", "mobile_number")
    )
