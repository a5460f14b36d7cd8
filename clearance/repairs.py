"""Write back a clearance change the ledger committed while its database transaction failed.

Fabric cannot roll a commit back, so the database follows the ledger: the request takes the
ledger's status and the history row its receipt, marked as repaired. The ledger holds only
the remarks' digest, so the organisation is asked to enter them again (``remarks_reenter``
checks them against it), with a decision's findings, which the ledger does not hold at all.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from chaincode.rules import CLEARANCE_DECISIONS, ClearanceStatus
from clearance.details import save_findings
from clearance.events import (
    CLEARANCE_APPROVED,
    CLEARANCE_CANCELLED,
    CLEARANCE_REJECTED,
    CLEARANCE_REQUESTED,
    CLEARANCE_RETURNED,
)
from clearance.models import ClearanceRequest, ClearanceStatusChange
from clearance.services import clear_if_complete
from kernel.i18n import Message
from kernel.refusals import STATUSES
from ledger.base import actor_pseudonym, sha256_hex
from ledger.keepers import Unrepairable
from notifications.events import NotificationEvent
from notifications.services import notify
from organisations.access import Caller
from organisations.models import Organisation
from organisations.selectors import lto_organisation, organisation_people
from registry.models import RegistrationApplication
from registry.services import application_send_back

if TYPE_CHECKING:
    from django.contrib.auth.models import User

logger = logging.getLogger(__name__)

_EVENTS: dict[str, NotificationEvent] = {
    ClearanceStatus.APPROVED: CLEARANCE_APPROVED,
    ClearanceStatus.REJECTED: CLEARANCE_REJECTED,
    ClearanceStatus.RETURNED: CLEARANCE_RETURNED,
    ClearanceStatus.CANCELLED: CLEARANCE_CANCELLED,
}


def _signer(request: ClearanceRequest, msp_id: str) -> Organisation:
    for organisation in (request.organisation, lto_organisation()):
        if organisation.msp_id == msp_id:
            return organisation
    raise Unrepairable(f"{msp_id} is neither the LTO nor the organisation asked.")


def _actor(organisation: Organisation, pseudonym: str) -> User:
    """The person behind a ledger pseudonym: someone who is (or was) of the organisation."""
    known = (
        ClearanceStatusChange.objects.filter(actor_pseudonym=pseudonym)
        .values_list("actor_id", flat=True)
        .first()
    )
    people = get_user_model().objects.filter(memberships__organisation=organisation).distinct()
    for person in people.order_by("pk"):
        if person.pk == known or actor_pseudonym(person.pk) == pseudonym:
            return person
    raise Unrepairable(f"no member of {organisation} has the actor id {pseudonym[:12]}.")


@transaction.atomic(durable=True)
def clearance_change_repair(*, change: dict[str, Any], backend: str) -> str:
    """Bring the request and its history in line with ``change`` (what GetChange answered
    on the ``backend`` ledger)."""
    change_id = str(change["change_id"])
    if ClearanceStatusChange.objects.filter(change_id=change_id).exists():
        raise Unrepairable("its history row is in the database already.")
    request = (
        ClearanceRequest.objects.select_for_update(of=("self",))
        .select_related("organisation", "application__vehicle", "application__applicant")
        .filter(public_id=change["clearance_id"])
        .first()
    )
    if request is None:
        # Only a send creates requests; sending again replays the ledger's change.
        raise Unrepairable(
            f"clearance request {change['clearance_id']} is not in the database: send the "
            "application for clearance again, which records what the ledger holds."
        )
    from_status, to_status = change.get("from_status", ""), change["status"]
    if request.status != from_status:
        raise Unrepairable(
            f"the request is {request.status}, but the change moves it from {from_status}."
        )
    application = RegistrationApplication.objects.select_for_update().get(pk=request.application_id)
    request.application = application
    organisation = _signer(request, change["msp_id"])
    actor = _actor(organisation, change["actor_id"])
    now = timezone.now()
    request.status = to_status
    if to_status == ClearanceStatus.IN_REVIEW:
        request.assigned_to = actor
    elif to_status == ClearanceStatus.PENDING:
        request.assigned_to = None
    if to_status in CLEARANCE_DECISIONS:
        request.decided_at = now
        request.remarks = ""
    request.save(update_fields=["status", "decided_at", "remarks", "assigned_to", "updated_at"])
    row = ClearanceStatusChange.objects.create(
        request=request,
        change_id=change_id,
        from_status=from_status,
        to_status=to_status,
        actor=actor,
        actor_pseudonym=change["actor_id"],
        organisation=organisation,
        remarks="",
        remarks_digest=change.get("remarks_digest", ""),
        ledger_backend=backend,
        ledger_tx_id=change["tx_id"],
        ledger_timestamp=datetime.fromisoformat(change["timestamp"].replace("Z", "+00:00")),
        # Read back from the ledger: it is committed, whatever its block.
        ledger_confirmed_at=now,
        repaired_from_ledger_at=now,
    )
    if to_status == ClearanceStatus.APPROVED:
        clear_if_complete(application, approving=request.kind)
    elif to_status == ClearanceStatus.RETURNED:
        application_send_back(
            application=application,
            actor=actor,
            reason=f"{request.get_kind_display()}: returned (repaired from the ledger).",
        )
    _tell(row, request, application)
    logger.warning(
        "repaired clearance change %s from the ledger: request %s %s -> %s (tx %s)",
        change_id,
        request.pk,
        from_status or "new",
        to_status,
        change["tx_id"][:16],
    )
    return (
        f"request {request.pk} is {to_status}, as the ledger recorded; history row {row.pk} written"
    )


def awaits_reentry(row: ClearanceStatusChange) -> bool:
    """A change repaired from the ledger whose remarks (the ledger kept their digest) or, for
    a decision, findings its organisation has yet to enter again."""
    return (
        row.repaired_from_ledger_at is not None
        and row.reentered_at is None
        and (bool(row.remarks_digest) or row.to_status in CLEARANCE_DECISIONS)
    )


def _tell(
    row: ClearanceStatusChange, request: ClearanceRequest, application: RegistrationApplication
) -> None:
    """One notice to the organisation that made the change (and the owner, of a decision)."""
    asks = _("Please enter its remarks and findings again.") if awaits_reentry(row) else ""
    recipients = list(organisation_people(row.organisation))
    if row.to_status in CLEARANCE_DECISIONS:
        recipients.append(application.applicant)
    notify(
        recipients=recipients,
        event=_EVENTS.get(row.to_status, CLEARANCE_REQUESTED),
        title=Message(
            pgettext_lazy(
                "sms", "%(kind)s clearance of %(reference)s is %(status)s, restored from the ledger"
            ),
            {
                "kind": request.get_kind_display(),
                "reference": application.reference,
                "status": STATUSES.get(row.to_status, row.to_status),
            },
        ),
        body=Message(
            _(
                "The ledger recorded this change but the database lost it; it has been "
                "written back from the ledger. %(asks)s"
            ),
            {"asks": asks},
        ),
        link=reverse("clearance-change-reenter", args=[row.change_id])
        if awaits_reentry(row)
        else reverse("application-detail", args=[application.pk]),
    )


@transaction.atomic(durable=True)
def change_reenter(
    *, change_id: str, officer: User, remarks: str, findings: object | None = None
) -> ClearanceStatusChange:
    """The organisation enters again the remarks (and a decision's findings) of a change
    repaired from the ledger. The remarks are kept only if they are the text whose digest
    the ledger recorded; the findings are checked as at the decision (the ledger holds no
    digest of them)."""
    row = (
        ClearanceStatusChange.objects.select_for_update(of=("self",))
        .select_related("request", "organisation")
        .get(change_id=change_id)
    )
    if not Caller(officer).acts_for(row.organisation_id):
        raise PermissionDenied(
            _("Only the organisation that made this change can enter its remarks.")
        )
    if not awaits_reentry(row):
        raise ValidationError(
            _("This change's remarks and findings are not waiting to be entered.")
        )
    text = remarks.strip()
    if sha256_hex(text) != row.remarks_digest:
        raise ValidationError(
            {
                "remarks": _(
                    "These are not the remarks the ledger recorded (their digest differs). "
                    "Enter them exactly as they were written."
                )
            }
        )
    request = ClearanceRequest.objects.select_for_update(of=("self",)).get(pk=row.request_id)
    latest = request.status_changes.order_by("-created_at", "-pk").first()
    is_latest = latest is not None and latest.pk == row.pk
    if is_latest and row.to_status in CLEARANCE_DECISIONS:
        # Later changes superseded this decision's findings and remarks otherwise.
        save_findings(request=request, decision=row.to_status, findings=findings)
        request.remarks = text
        request.save(update_fields=["remarks", "updated_at"])
    row.remarks = text
    row.reentered_at = timezone.now()
    row.save(update_fields=["remarks", "reentered_at"])
    logger.info("remarks of repaired clearance change %s entered again", change_id)
    return row
