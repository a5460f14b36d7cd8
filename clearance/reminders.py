"""Clearances past their deadline: the organisations' admins and the LTO's are told once per
request and deadline."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from chaincode.rules import ClearanceStatus, OrgKind
from clearance.events import CLEARANCE_OVERDUE
from clearance.models import ClearanceRequest
from notifications.reminders import not_yet_sent, notify_once
from organisations.selectors import active_admins

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def clearances_overdue_notify(*, now: datetime | None = None) -> int:
    """Tell LTO admins and the organisation's admins about each open request past its
    deadline, once per request and deadline. Returns how many notifications were written."""
    now = now or timezone.now()
    overdue = (
        ClearanceRequest.objects.filter(
            due_at__lt=now, status__in=[ClearanceStatus.PENDING, ClearanceStatus.IN_REVIEW]
        )
        .select_related("organisation", "application")
        .order_by("due_at", "pk")
    )
    # The deadline is part of the key: if the LTO extends it, missing the new one is news.
    keyed = [(f"clearance-overdue:{r.pk}:{int(r.due_at.timestamp())}", r) for r in overdue]
    lto_admins = active_admins(Q(memberships__organisation__kind=OrgKind.LTO))
    org_admins: dict[int, list[User]] = {}
    written = 0
    for key, request in not_yet_sent(keyed):
        if request.organisation_id not in org_admins:
            org_admins[request.organisation_id] = active_admins(
                Q(memberships__organisation_id=request.organisation_id)
            )
        due = timezone.localtime(request.due_at)
        written += notify_once(
            dedupe_key=key,
            recipients=[*lto_admins, *org_admins[request.organisation_id]],
            event=CLEARANCE_OVERDUE,
            title=f"{request.kind} clearance for {request.application.reference} is overdue",
            body=(
                f"{request.organisation} was due to decide by {due:%d %b %Y %H:%M}; "
                f"the request is still {request.get_status_display().lower()}."
            ),
            link=reverse("application-detail", args=[request.application_id]),
        )
    return written
