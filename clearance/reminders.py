"""Clearances past their deadline: the organisations' admins and the LTO's are told once per
request and deadline."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from chaincode.rules import ClearanceStatus, OrgKind
from clearance.events import CLEARANCE_OVERDUE
from clearance.models import ClearanceRequest
from kernel.i18n import Message, manila_time
from kernel.refusals import STATUSES
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
        written += notify_once(
            dedupe_key=key,
            recipients=[*lto_admins, *org_admins[request.organisation_id]],
            event=CLEARANCE_OVERDUE,
            title=Message(
                pgettext_lazy("sms", "%(kind)s clearance for %(reference)s is overdue"),
                {"kind": request.kind, "reference": request.application.reference},
            ),
            body=Message(
                _(
                    "%(organisation)s was due to decide by %(due)s; the request is still "
                    "%(status)s."
                ),
                {
                    "organisation": str(request.organisation),
                    "due": manila_time(request.due_at),
                    "status": STATUSES.get(request.status, request.status),
                },
            ),
            link=reverse("application-detail", args=[request.application_id]),
        )
    return written
