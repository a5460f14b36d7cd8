"""Reads used by more than one caller, and the access funnel for applications."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Prefetch, QuerySet
from django.http import Http404

from registry.models import RegistrationApplication, Vehicle

AnyUser = AbstractBaseUser | AnonymousUser


def applications_for_user(user: AnyUser) -> QuerySet[RegistrationApplication]:
    """Every application the user may see: all for LTO staff, those with a request for their
    organisation for external officers, their own for owners."""
    from clearance.models import ClearanceRequest
    from clearance.selectors import is_lto_staff, memberships_of

    base = RegistrationApplication.objects.select_related("vehicle", "applicant").prefetch_related(
        Prefetch(
            "clearance_requests",
            queryset=ClearanceRequest.objects.select_related("organisation").order_by("kind"),
        )
    )
    if not user.is_authenticated:
        return base.none()
    if is_lto_staff(user):
        return base
    organisation_ids = list(memberships_of(user).values_list("organisation_id", flat=True))
    if organisation_ids:
        return base.filter(clearance_requests__organisation_id__in=organisation_ids).distinct()
    return base.filter(applicant=user)


def application_get_for_user(*, user: AnyUser, pk: int) -> RegistrationApplication:
    """The one way to fetch an application for a user: 404 when they may not see it."""
    try:
        return applications_for_user(user).get(pk=pk)
    except RegistrationApplication.DoesNotExist:
        raise Http404("No such application.") from None


def vehicles_of(user: AnyUser) -> QuerySet[Vehicle]:
    if not user.is_authenticated:
        return Vehicle.objects.none()
    return Vehicle.objects.filter(owner=user, is_active=True).order_by("-created_at")


def vehicle_get_for_user(*, user: AnyUser, pk: int) -> Vehicle:
    """One of the user's own active vehicles: 404 for anyone else's."""
    try:
        return vehicles_of(user).get(pk=pk)
    except Vehicle.DoesNotExist:
        raise Http404("No such vehicle.") from None
