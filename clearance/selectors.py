"""Reads used by more than one caller, and the access funnel for clearance requests."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import QuerySet
from django.http import Http404

from chaincode.rules import OrgKind
from clearance.models import (
    ClearanceRequest,
    ClearanceRequirement,
    EmissionLimit,
    Membership,
    Organisation,
)

User = get_user_model()
AnyUser = AbstractBaseUser | AnonymousUser


def memberships_of(user: AnyUser) -> QuerySet[Membership]:
    if not user.is_authenticated:
        return Membership.objects.none()
    return Membership.objects.filter(
        user=user, is_active=True, organisation__is_active=True
    ).select_related("organisation")


def is_lto_staff(user: AnyUser) -> bool:
    return memberships_of(user).filter(organisation__kind=OrgKind.LTO).exists()


def lto_organisation() -> Organisation:
    organisation = Organisation.objects.filter(kind=OrgKind.LTO, is_active=True).first()
    if organisation is None:
        raise Organisation.DoesNotExist("No active LTO organisation is configured.")
    return organisation


def lto_staff() -> QuerySet[AbstractBaseUser]:
    return User.objects.filter(
        is_active=True,
        memberships__is_active=True,
        memberships__organisation__kind=OrgKind.LTO,
        memberships__organisation__is_active=True,
    ).distinct()


def organisation_people(organisation: Organisation) -> QuerySet[AbstractBaseUser]:
    return User.objects.filter(
        is_active=True, memberships__organisation=organisation, memberships__is_active=True
    ).distinct()


def required_kinds(application_type: str) -> list[str]:
    return list(
        ClearanceRequirement.objects.filter(application_type=application_type)
        .order_by("kind")
        .values_list("kind", flat=True)
    )


def emission_limits(fuel: str) -> EmissionLimit:
    """The limits for this fuel, else the default row, else the built-in defaults."""
    limits = {row.fuel: row for row in EmissionLimit.objects.filter(fuel__in=[fuel, ""])}
    return limits.get(fuel) or limits.get("") or EmissionLimit()


def clearance_requests_for_user(user: AnyUser) -> QuerySet[ClearanceRequest]:
    """Every request the user may see: all for LTO staff, their organisations' for officers,
    their own applications' for owners."""
    base = ClearanceRequest.objects.select_related(
        "organisation", "application__vehicle", "application__applicant", "assigned_to"
    )
    if not user.is_authenticated:
        return base.none()
    if is_lto_staff(user):
        return base
    organisation_ids = list(memberships_of(user).values_list("organisation_id", flat=True))
    if organisation_ids:
        return base.filter(organisation_id__in=organisation_ids)
    return base.filter(application__applicant=user)


def clearance_request_get_for_user(*, user: AnyUser, pk: int) -> ClearanceRequest:
    """The one way to fetch a request for a user: 404 when they may not see it."""
    try:
        return clearance_requests_for_user(user).get(pk=pk)
    except ClearanceRequest.DoesNotExist:
        raise Http404("No such clearance request.") from None


def people_concerned(application_id: int) -> set[int]:
    """Whose open pages show this application: its owner, LTO staff, the organisations asked."""
    from registry.models import RegistrationApplication

    owner = RegistrationApplication.objects.filter(pk=application_id).values_list(
        "applicant_id", flat=True
    )
    officers = User.objects.filter(
        is_active=True,
        memberships__is_active=True,
        memberships__organisation__clearance_requests__application_id=application_id,
    ).values_list("pk", flat=True)
    return {*owner, *lto_staff().values_list("pk", flat=True), *officers}
