"""Clearance's part in an application's life, registered with registry at start-up."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeAlias, TypedDict, cast

from django.db.models import Count, Exists, Max, OuterRef, Prefetch, Q, Subquery
from django.utils.translation import gettext as _

from chaincode.rules import CLEARANCE_OPEN, ClearanceStatus
from clearance import access, kinds
from clearance.durations import decision_medians
from clearance.models import ClearanceRequest, ClearanceStatusChange
from clearance.selectors import (
    clearance_requests_for,
    clearance_requests_seen_by,
    officers_asked,
    required_kinds,
)
from clearance.services import cancel_open_requests, reopen_returned
from organisations.access import Caller
from registry.models import RegistrationApplication
from registry.participants import PagePart
from registry.progress import CURRENT, DONE, STOPPED, WAITING, Step, usual_duration

if TYPE_CHECKING:
    from django.contrib.auth.models import User
    from django_stubs_ext import WithAnnotations


# What the prefetches below, and this module, put on the requests they hand out.
class _History(TypedDict):
    changes: list[ClearanceStatusChange]  # Prefetch(to_attr=), oldest first


class _Panel(_History):
    can: dict[str, bool]  # the caller's allowed actions, for the template's buttons


class _Status(TypedDict):
    changes_newest_first: list[ClearanceStatusChange]  # Prefetch(to_attr=)
    latest_change: ClearanceStatusChange | None  # for the API's ledger receipt


RequestWithHistory: TypeAlias = "WithAnnotations[ClearanceRequest, _History]"
RequestPanel: TypeAlias = "WithAnnotations[ClearanceRequest, _Panel]"
RequestStatus: TypeAlias = "WithAnnotations[ClearanceRequest, _Status]"


class ClearanceParticipant:
    """Applications are seen by the organisations asked to clear them, and their requests
    follow the application: reopened on resubmission, cancelled when it closes."""

    def application_prefetches(self) -> list[Prefetch]:
        return [
            Prefetch(
                "clearance_requests",
                queryset=ClearanceRequest.objects.select_related("organisation").order_by("kind"),
            )
        ]

    def history_prefetches(self) -> list[Prefetch]:
        return [
            Prefetch(
                "clearance_requests__status_changes",
                queryset=ClearanceStatusChange.objects.order_by("created_at", "id"),
                to_attr="changes",
            )
        ]

    def latest_changes(self, applications: Iterable[RegistrationApplication]) -> list[Any]:
        return [
            request.changes[-1]
            for application in applications
            for request in cast(
                "Iterable[RequestWithHistory]", application.clearance_requests.all()
            )
            if request.changes
        ]

    def overdue(self, now: datetime) -> Exists:
        return Exists(
            ClearanceRequest.objects.filter(
                application=OuterRef("pk"), status__in=CLEARANCE_OPEN, due_at__lt=now
            )
        )

    def application_page(self, *, caller: Caller, application: RegistrationApplication) -> PagePart:
        """One panel per request; officers see only their own organisation's."""
        requests = (
            ClearanceRequest.objects.filter(application=application)
            .select_related("organisation", "assigned_to")
            .prefetch_related(
                Prefetch(
                    "status_changes",
                    queryset=ClearanceStatusChange.objects.select_related("organisation").order_by(
                        "created_at", "id"
                    ),
                    to_attr="changes",
                )
            )
            .order_by("kind", "created_at")
        )
        if not caller.is_lto_staff and application.applicant_id != caller.user_id:
            requests = requests.filter(organisation_id__in=caller.organisation_ids)
        panels = cast("list[RequestPanel]", list(requests))
        for request in panels:
            request.can = {a.value: True for a in access.allowed_actions(caller, request)}
        live_kinds = {r.kind for r in panels if r.status != ClearanceStatus.CANCELLED}
        missing = [k for k in required_kinds(application) if k not in live_kinds]
        return PagePart(
            context={
                "clearances": panels,
                "missing_kinds": missing,
                # Named as people know them ("Emission testing"), not by their codes.
                "missing_kind_names": [
                    kinds.kind(k).sent_to or kinds.kind(k).label for k in missing
                ],
            },
            changes=[change for request in panels for change in request.changes],
            steps=progress_steps(panels, missing),
        )

    def statuses(self, *, caller: Caller, application: RegistrationApplication) -> list[Any]:
        clearances = cast(
            "list[RequestStatus]",
            list(
                clearance_requests_for(caller)
                .filter(application=application)
                .prefetch_related(
                    Prefetch(
                        "status_changes",
                        queryset=ClearanceStatusChange.objects.order_by("-created_at", "-id"),
                        to_attr="changes_newest_first",
                    )
                )
                .order_by("kind")
            ),
        )
        for clearance in clearances:
            clearance.latest_change = next(iter(clearance.changes_newest_first), None)
        return clearances

    def status_version(self, *, caller: Caller) -> dict[str, Any]:
        # What ``statuses`` shows moves only with these: a request added (count), a status
        # or decision (a new history row, so a higher id, and the request's updated_at), a
        # receipt confirmed (its block, set once), an organisation renamed.
        seen = clearance_requests_seen_by(caller).filter(application=OuterRef("pk"))

        def aggregate(expression: Any) -> Subquery:
            return Subquery(
                seen.order_by().values("application").annotate(v=expression).values("v")[:1]
            )

        return {
            "clearances": aggregate(Count("pk", distinct=True)),
            "clearances_updated": aggregate(Max("updated_at")),
            "clearance_latest_change": aggregate(Max("status_changes__id")),
            "clearance_receipts_confirmed": aggregate(Count("status_changes__ledger_block")),
            "clearance_organisations_updated": aggregate(Max("organisation__updated_at")),
        }

    def applications_visible_to(self, organisation_ids: list[int]) -> Q:
        return Q(clearance_requests__organisation_id__in=organisation_ids)

    def people_concerned(self, application_id: int) -> set[int]:
        return officers_asked(application_id)

    def has_live_work(self, application: RegistrationApplication) -> bool:
        return application.clearance_requests.exclude(status=ClearanceStatus.CANCELLED).exists()

    def application_resubmitted(self, *, application: RegistrationApplication, actor: User) -> None:
        reopen_returned(application=application, actor=actor)

    def application_closed(
        self, *, application: RegistrationApplication, actor: User, reason: str
    ) -> None:
        cancel_open_requests(application=application, actor=actor, reason=reason)

    def approval_refusal(self, application: RegistrationApplication) -> str | None:
        # The workflow's own rule already says an approval needs every clearance approved
        # (the application is "cleared"): nothing to add here.
        return None


def progress_steps(requests: Sequence[ClearanceRequest], missing_kinds: list[str]) -> list[Step]:
    """One step per check of the application: each request in its state, with the time its
    organisation usually takes to decide; the checks not sent yet after them."""
    live = [r for r in requests if r.status != ClearanceStatus.CANCELLED]
    medians = decision_medians({r.organisation_id for r in live})
    steps = []
    for request in live:
        state, note = {
            ClearanceStatus.APPROVED: (DONE, ""),
            ClearanceStatus.REJECTED: (STOPPED, _("The check failed.")),
            ClearanceStatus.RETURNED: (
                CURRENT,
                _("Returned for corrections: see the remarks below, then file it again."),
            ),
            ClearanceStatus.IN_REVIEW: (CURRENT, _("An officer is checking it now.")),
        }.get(ClearanceStatus(request.status), (CURRENT, _("Waiting for an officer.")))
        median, count = medians.get(request.organisation_id, (None, 0))
        steps.append(
            Step(
                _("%(kind)s check") % {"kind": request.get_kind_display()},
                request.organisation.name,
                state,
                note,
                usual_duration(median, count) if state != DONE else "",
            )
        )
    for code in missing_kinds:
        steps.append(
            Step(
                _("%(kind)s check") % {"kind": kinds.kind(code).label},
                _("sent by the LTO after its review"),
                WAITING,
            )
        )
    return steps
