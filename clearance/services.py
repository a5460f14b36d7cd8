"""Every state change of a clearance request, one function each.

Locks are taken in one order everywhere — application, then request, then (inside the
ledger) the ledger head — so concurrent changes queue instead of deadlocking.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from chaincode.rules import (
    CLEARANCE_DECISIONS,
    CLEARANCE_OPEN,
    ApplicationStatus,
    ClearanceStatus,
    clearance_actor_role,
)
from clearance import access, kinds
from clearance.details import save_findings
from clearance.events import (
    CLEARANCE_APPROVED,
    CLEARANCE_CANCELLED,
    CLEARANCE_REJECTED,
    CLEARANCE_REQUESTED,
    CLEARANCE_RETURNED,
)
from clearance.models import ClearanceRequest, ClearanceStatusChange
from clearance.selectors import required_kinds
from clearance.transitions import (
    plan_clearance_change,
    record_clearance_change,
    record_clearance_changes,
)
from kernel.errors import Conflict
from kernel.i18n import Message, manila_time
from kernel.refusals import STATUSES
from ledger.events import LedgerEvent, Outcome
from ledger.keepers import receipt_confirmed
from notifications.live import announce_change
from notifications.models import WebhookEvent
from notifications.services import notify
from notifications.webhooks import emit
from organisations.access import Action, Caller
from organisations.models import Organisation
from organisations.selectors import (
    lto_organisation,
    lto_staff,
    organisation_people,
)
from registry import access as registry_access
from registry.holds import refuse_if_held
from registry.models import RegistrationApplication
from registry.selectors import people_concerned
from registry.services import (
    application_await_clearances,
    application_clear,
    application_send_back,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import User

_DECISION_EVENTS = {
    ClearanceStatus.APPROVED: CLEARANCE_APPROVED,
    ClearanceStatus.REJECTED: CLEARANCE_REJECTED,
    ClearanceStatus.RETURNED: CLEARANCE_RETURNED,
}


def _lock_application(application_id: int) -> RegistrationApplication:
    return (
        RegistrationApplication.objects.select_for_update(of=("self",))
        .select_related("vehicle", "applicant")
        .get(pk=application_id)
    )


def _lock_request(request_id: int) -> ClearanceRequest:
    """Lock the request without waiting: someone holding it is deciding it right now."""
    try:
        return (
            ClearanceRequest.objects.select_for_update(nowait=True, of=("self",))
            .select_related("organisation", "application__vehicle", "application__applicant")
            .get(pk=request_id)
        )
    except DatabaseError as exc:
        raise Conflict(
            _("Another officer is acting on this request right now. Reload and try again.")
        ) from exc


def _application_of(request_id: int) -> int:
    application_id = (
        ClearanceRequest.objects.filter(pk=request_id)
        .values_list("application_id", flat=True)
        .first()
    )
    if application_id is None:
        raise ClearanceRequest.DoesNotExist(f"Clearance request {request_id} does not exist.")
    return application_id


def _link(application: RegistrationApplication) -> str:
    return reverse("application-detail", args=[application.pk])


@transaction.atomic(durable=True)
def clearance_send_for_clearance(
    *,
    application_id: int,
    actor: User,
    organisation_ids: dict[str, int] | None = None,
) -> list[ClearanceRequest]:
    """Open one request per clearance kind the application type needs.

    ``organisation_ids`` picks the organisation for a kind (an owner's chosen insurer,
    say); otherwise the first active organisation of that kind is asked.
    """
    application = _lock_application(application_id)
    registry_access.require(Caller(actor), application, Action.SEND_FOR_CLEARANCE)
    lto = lto_organisation()
    codes = required_kinds(application)
    if not codes:
        raise Conflict(
            Message(
                _("No clearances are configured for %(type)s."),
                {"type": application.get_type_display()},
            )
        )
    live = set(
        application.clearance_requests.exclude(status=ClearanceStatus.CANCELLED).values_list(
            "kind", flat=True
        )
    )
    action = _send_action(application)
    application_await_clearances(application=application, actor=actor)
    chosen = organisation_ids or {}
    planned = []
    now = timezone.now()
    for code in codes:
        if code in live:
            continue
        kind = _installed(code)
        organisation = _organisation_for(kind, kind.routed_to(application) or chosen.get(code))
        request = ClearanceRequest(
            public_id=_derived_id(action, code, "request"),
            application=application,
            kind=code,
            organisation=organisation,
            due_at=now + timedelta(hours=kind.sla),
        )
        planned.append(
            plan_clearance_change(
                request=request,
                to_status=ClearanceStatus.PENDING,
                actor=actor,
                organisation=lto,
                change_id=_derived_id(action, code, "open"),
            )
        )
    # The requests' ledger writes are independent keys: written together, one round trip.
    changes = record_clearance_changes(planned)
    for change in changes:
        request, organisation = change.request, change.request.organisation
        emit(
            event=WebhookEvent.CLEARANCE_REQUESTED,
            organisation_ids=[organisation.pk],
            payload=_webhook_payload(request, application, change),
        )
        notify(
            recipients=organisation_people(organisation),
            event=CLEARANCE_REQUESTED,
            title=Message(
                pgettext_lazy("sms", "%(kind)s clearance requested for %(reference)s"),
                {"kind": request.get_kind_display(), "reference": application.reference},
            ),
            body=Message(
                _("Please clear %(vehicle)s by %(due)s."),
                {"vehicle": str(application.vehicle), "due": manila_time(request.due_at)},
            ),
            link=_link(application),
        )
    return [change.request for change in changes]


# The namespace of the ids derived from a user's action (see _derived_id).
_ACTION_IDS = uuid.UUID("6d1f0f3e-8f0b-4c55-9a43-1c7e2b0f5a21")


def _send_action(application: RegistrationApplication) -> str:
    """What identifies one send of this (locked) application: the same on a retry of a send
    that saved nothing, different once a send has been saved (the application changed and
    has more requests)."""
    count = application.clearance_requests.count()
    return f"send:{application.pk}:{application.updated_at.isoformat()}:{count}"


def _derived_id(action: str, kind: str, what: str) -> uuid.UUID:
    """The id of what ``action`` makes for ``kind``: a retry of the action reuses it, so the
    ledger answers the writes that committed before from what it recorded (the chaincode is
    idempotent by change id) and records the rest."""
    return uuid.uuid5(_ACTION_IDS, f"{action}:{kind}:{what}")


def _installed(code: str) -> kinds.ClearanceKind[Any]:
    try:
        return kinds.kind(code)
    except kinds.UnknownKind as exc:
        raise Conflict(
            Message(
                _("The application type needs a %(code)s clearance, which is not installed."),
                {"code": code},
            )
        ) from exc


def _organisation_for(kind: kinds.ClearanceKind[Any], organisation_id: int | None) -> Organisation:
    """The organisation the kind routes it to or the owner chose, else the first active one,
    of the kind that signs it."""
    organisations = Organisation.objects.filter(kind=kind.signed_by, is_active=True)
    organisation = (
        organisations.filter(pk=organisation_id).first()
        if organisation_id
        else organisations.first()
    )
    if organisation is None:
        raise Conflict(
            Message(
                _("No active %(code)s organisation can take this request."), {"code": kind.code}
            )
        )
    return organisation


@transaction.atomic(durable=True)
def clearance_claim(*, request_id: int, officer: User) -> ClearanceStatusChange:
    """An officer takes a pending request into review."""
    _lock_application(_application_of(request_id))
    request = _lock_request(request_id)
    access.require(Caller(officer), request, Action.CLAIM)
    if request.status == ClearanceStatus.IN_REVIEW:
        raise Conflict(
            Message(
                _("%(assigned_to)s is already reviewing this request."),
                {"assigned_to": request.assigned_to},
            )
        )
    request.assigned_to = officer
    return record_clearance_change(
        request=request,
        to_status=ClearanceStatus.IN_REVIEW,
        actor=officer,
        organisation=request.organisation,
    )


@transaction.atomic(durable=True)
def clearance_decide(
    *,
    request_id: int,
    officer: User,
    decision: ClearanceStatus,
    remarks: str,
    findings: object | None = None,
    change_id: uuid.UUID | None = None,
) -> ClearanceStatusChange:
    """Approve, reject or return a request under review, with the kind's findings.

    A retry with the same ``change_id`` returns the change already made. When the last
    required clearance is approved, the application becomes cleared by itself.
    """
    if change_id is not None:
        earlier = ClearanceStatusChange.objects.filter(
            change_id=change_id, request_id=request_id
        ).first()
        if earlier is not None:
            return earlier
    if decision not in CLEARANCE_DECISIONS:
        raise ValidationError({"decision": _("Choose approve, reject or return.")})
    application = _lock_application(_application_of(request_id))
    request = _lock_request(request_id)
    request.application = application
    access.require(Caller(officer), request, Action.DECIDE)
    if request.status in CLEARANCE_DECISIONS:
        raise Conflict(
            Message(
                _("This request was already %(status)s; nothing was changed."),
                {"status": request.status},
            )
        )
    if decision != ClearanceStatus.APPROVED and not remarks.strip():
        raise ValidationError(
            {"remarks": _("Say why in the remarks when rejecting or returning a request.")}
        )
    # Refuse an illegal move before anything is written.
    clearance_actor_role(request.status, decision)
    if decision == ClearanceStatus.APPROVED:
        # A held vehicle is not cleared (the chaincode refuses it too); it may be rejected
        # or returned.
        refuse_if_held(application.vehicle, doing="cleared")
    save_findings(request=request, decision=decision, findings=findings)
    notify(
        recipients=[*lto_staff(), application.applicant],
        event=_DECISION_EVENTS[decision],
        title=Message(
            pgettext_lazy("sms", "%(kind)s clearance %(decision)s for %(reference)s"),
            {
                "kind": request.get_kind_display(),
                "decision": STATUSES.get(decision, decision),
                "reference": application.reference,
            },
        ),
        body=remarks.strip(),
        link=_link(application),
    )
    if decision == ClearanceStatus.RETURNED:
        application_send_back(
            application=application,
            actor=officer,
            reason=f"{request.get_kind_display()}: {remarks.strip()}",
        )
    elif decision == ClearanceStatus.APPROVED:
        clear_if_complete(application, approving=request.kind)
    # The ledger write comes last: from it until the commit, every other decision in the
    # office waits on the embedded ledger's head lock, so nothing else should happen there.
    change = record_clearance_change(
        request=request,
        to_status=decision,
        actor=officer,
        organisation=request.organisation,
        remarks=remarks.strip(),
        change_id=change_id,
    )
    # After the ledger write because integrators get the receipt's tx id; one insert.
    emit(
        event=WebhookEvent.CLEARANCE_DECIDED,
        organisation_ids=[request.organisation_id, lto_organisation().pk],
        payload=_webhook_payload(request, application, change),
    )
    return change


def _webhook_payload(
    request: ClearanceRequest, application: RegistrationApplication, change: ClearanceStatusChange
) -> dict:
    """What integrators are told of a clearance change: identifiers and statuses only."""
    return {
        "clearance_request_id": request.pk,
        "application_id": application.pk,
        "reference": application.reference,
        "kind": request.kind,
        "status": change.to_status,
        "due_at": request.due_at.isoformat(),
        "ledger_tx_id": change.ledger_tx_id,
    }


def clear_if_complete(application: RegistrationApplication, *, approving: str) -> None:
    """Move the application to cleared once every required kind is approved, counting the
    kind being approved in this transaction."""
    if application.status != ApplicationStatus.AWAITING_CLEARANCES:
        return
    approved = {
        approving,
        *application.clearance_requests.filter(status=ClearanceStatus.APPROVED).values_list(
            "kind", flat=True
        ),
    }
    if not set(required_kinds(application)) <= approved:
        return
    application_clear(application=application)


def reopen_returned(
    *, application: RegistrationApplication, actor: User
) -> list[ClearanceStatusChange]:
    """Send every returned request of a (locked) application back to pending."""
    lto = lto_organisation()
    changes = []
    returned = application.clearance_requests.select_for_update().filter(
        status=ClearanceStatus.RETURNED
    )
    for request in returned.select_related("organisation").order_by("pk"):
        request.application = application
        request.assigned_to = None
        changes.append(
            record_clearance_change(
                request=request,
                to_status=ClearanceStatus.PENDING,
                actor=actor,
                organisation=lto,
                remarks="Resubmitted with corrections.",
            )
        )
        notify(
            recipients=organisation_people(request.organisation),
            event=CLEARANCE_REQUESTED,
            title=Message(
                pgettext_lazy("sms", "%(kind)s clearance resubmitted for %(reference)s"),
                {"kind": request.get_kind_display(), "reference": application.reference},
            ),
            body=_("The owner corrected the application; please review it again."),
            link=_link(application),
        )
    return changes


def cancel_open_requests(
    *, application: RegistrationApplication, actor: User, reason: str
) -> list[ClearanceStatusChange]:
    """Cancel every open request of a (locked) application, signed by the LTO."""
    lto = lto_organisation()
    changes = []
    open_requests = application.clearance_requests.select_for_update().filter(
        status__in=CLEARANCE_OPEN
    )
    for request in open_requests.select_related("organisation").order_by("pk"):
        request.application = application
        changes.append(
            record_clearance_change(
                request=request,
                to_status=ClearanceStatus.CANCELLED,
                actor=actor,
                organisation=lto,
                remarks=reason,
            )
        )
        _notify_cancelled(request, application, reason)
    return changes


@transaction.atomic(durable=True)
def clearance_cancel(*, request_id: int, actor: User, reason: str) -> ClearanceStatusChange:
    """LTO staff withdraw one open request (sent to the wrong insurer, say)."""
    application = _lock_application(_application_of(request_id))
    request = _lock_request(request_id)
    request.application = application
    access.require(Caller(actor), request, Action.CANCEL_CLEARANCE)
    lto = lto_organisation()
    change = record_clearance_change(
        request=request,
        to_status=ClearanceStatus.CANCELLED,
        actor=actor,
        organisation=lto,
        remarks=reason.strip(),
    )
    _notify_cancelled(request, application, reason.strip())
    return change


def _notify_cancelled(
    request: ClearanceRequest, application: RegistrationApplication, reason: str
) -> None:
    notify(
        recipients=organisation_people(request.organisation),
        event=CLEARANCE_CANCELLED,
        title=Message(
            pgettext_lazy("sms", "%(kind)s clearance for %(reference)s cancelled"),
            {"kind": request.get_kind_display(), "reference": application.reference},
        ),
        body=reason,
        link=_link(application),
    )


def clearance_change_confirm(*, event: LedgerEvent) -> Outcome:
    """The ledger's event for a clearance change was committed in ``event.block``: confirm the
    history row's receipt and tell the people concerned. The listener hands it only
    UpdateClearanceStatus's event (``ledger.keepers.confirm``), inside the transaction that
    moves its checkpoint."""
    change_id = str(event.data().get("change_id", ""))
    change = (
        ClearanceStatusChange.objects.select_for_update(of=("self",))
        .select_related("request")
        .filter(change_id=change_id)
        .first()
    )
    outcome = receipt_confirmed(change, event, change_id)
    if outcome.confirmed and change is not None:
        announce_change(
            user_ids=people_concerned(change.request.application_id),
            event="ledger_confirmed",
            application_id=change.request.application_id,
            request_id=change.request_id,
        )
    return outcome
