"""Reads used by more than one caller, and the access funnel for clearance requests."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import gettext_lazy as _

from clearance import kinds
from clearance.models import ClearanceRequest, ClearanceRequirement
from organisations.access import Caller
from organisations.selectors import AnyUser, User, is_lto_staff, memberships_of
from registry.models import RegistrationApplication


def required_kinds(application: RegistrationApplication) -> list[str]:
    """The kinds the application needs: those its type requires (data), less any a kind says
    this application does not need (``ClearanceKind.needed_for``)."""
    codes = (
        ClearanceRequirement.objects.filter(application_type=application.type)
        .order_by("kind")
        .values_list("kind", flat=True)
    )
    return [code for code in codes if _needed(code, application)]


def _needed(code: str, application: RegistrationApplication) -> bool:
    try:
        return kinds.kind(code).needed_for(application)
    except kinds.UnknownKind:
        # Required but not installed: kept, so that sending for clearance says so.
        return True


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
    return _visible(base, user, organisation_ids)


def _visible(
    requests: QuerySet[ClearanceRequest], user: AnyUser, organisation_ids: Iterable[int]
) -> QuerySet[ClearanceRequest]:
    """What someone who is not LTO staff sees: their organisations' requests if they belong
    to any, else their own applications'."""
    organisation_ids = sorted(organisation_ids)
    if organisation_ids:
        return requests.filter(organisation_id__in=organisation_ids)
    return requests.filter(application__applicant_id=user.pk)


def clearance_requests_seen_by(caller: Caller) -> QuerySet[ClearanceRequest]:
    """``clearance_requests_for`` from the memberships the caller has read already (one
    query for the whole request, ``Caller.memberships``), unjoined: for subqueries."""
    requests = ClearanceRequest.objects.all()
    if not caller.is_authenticated:
        return requests.none()
    if not caller.is_lto_staff:
        requests = _visible(requests, caller.user, caller.organisation_ids)
    if caller.organisation_limit is not None:
        requests = requests.filter(organisation_id=caller.organisation_limit)
    return requests


def clearance_request_get_for_user(*, user: AnyUser, pk: int) -> ClearanceRequest:
    """The one way to fetch a request for a user: 404 when they may not see it."""
    try:
        return clearance_requests_for_user(user).get(pk=pk)
    except ClearanceRequest.DoesNotExist:
        raise Http404(_("No such clearance request.")) from None


def officers_asked(application_id: int) -> set[int]:
    """The people of the organisations asked to clear this application."""
    return set(
        User.objects.filter(
            is_active=True,
            memberships__is_active=True,
            memberships__organisation__clearance_requests__application_id=application_id,
        ).values_list("pk", flat=True)
    )


def clearance_requests_for(caller: Caller) -> QuerySet[ClearanceRequest]:
    """The person's funnel, further limited to the key's organisation when a key is used."""
    requests = clearance_requests_for_user(caller.user)
    if caller.organisation_limit is not None:
        requests = requests.filter(organisation_id=caller.organisation_limit)
    return requests


def clearance_request_get_for(caller: Caller, pk: int) -> ClearanceRequest:
    try:
        return clearance_requests_for(caller).get(pk=pk)
    except ClearanceRequest.DoesNotExist:
        raise Http404(_("No such clearance request.")) from None
