"""Browser pages: each parses input, reads through the access funnel, renders."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from chaincode.rules import CLEARANCE_OPEN
from clearance.models import ClearanceRequest, ClearanceStatusChange
from clearance.selectors import clearance_requests_for_user, is_lto_staff, memberships_of
from registry.selectors import application_get_for_user, applications_for_user


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Each role's starting page: applications for owners and LTO, the queue for officers."""
    user = request.user
    memberships = list(memberships_of(user))
    lto = is_lto_staff(user)
    queue = None
    if memberships and not lto:
        queue = (
            clearance_requests_for_user(user)
            .filter(status__in=CLEARANCE_OPEN)
            .order_by("due_at")[:100]
        )
    applications = applications_for_user(user).prefetch_related(
        Prefetch(
            "clearance_requests__status_changes",
            queryset=ClearanceStatusChange.objects.order_by("created_at", "id"),
            to_attr="changes",
        )
    )
    page = Paginator(applications, 25).get_page(request.GET.get("page"))
    return render(
        request,
        "registry/home.html",
        {"page": page, "queue": queue, "memberships": memberships, "is_lto": lto},
    )


@login_required
def application_detail(request: HttpRequest, pk: int) -> HttpResponse:
    application = application_get_for_user(user=request.user, pk=pk)
    requests = (
        ClearanceRequest.objects.filter(application=application)
        .select_related("organisation", "assigned_to")
        .prefetch_related(
            Prefetch(
                "status_changes",
                queryset=ClearanceStatusChange.objects.select_related("organisation").order_by(
                    "created_at", "id"
                ),
            )
        )
        .order_by("kind", "created_at")
    )
    if not is_lto_staff(request.user) and memberships_of(request.user).exists():
        # Officers see only their own organisation's panel.
        requests = requests.filter(
            organisation_id__in=memberships_of(request.user).values("organisation_id")
        )
    return render(
        request,
        "registry/application_detail.html",
        {
            "application": application,
            "clearances": requests,
            "history": application.status_changes.select_related("actor"),
        },
    )
