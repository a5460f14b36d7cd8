"""The one way a clearance request's status changes: rules, ledger, history, together.

Callers hold the request's row lock inside a transaction. The ledger write happens here,
before the row is saved, so a ledger failure leaves nothing behind. Changes of several
requests in one action are planned first and written to the ledger together.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.utils import timezone

from chaincode.rules import CLEARANCE_DECISIONS, MEMBER_ATTRIBUTES, check_clearance_authority
from clearance.models import ClearanceRequest, ClearanceStatusChange
from ledger import get_ledger
from ledger.base import ClearanceChange, Receipt, actor_pseudonym, sha256_hex
from notifications.live import announce_change
from organisations.models import Organisation
from registry.selectors import people_concerned

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def ledger_record(
    *,
    request: ClearanceRequest,
    from_status: str,
    to_status: str,
    change_id: uuid.UUID,
    actor_id: int,
    remarks: str,
    organisation: Organisation,
) -> ClearanceChange:
    """What the ledger records of a clearance change: built here for the write, and again
    from the history row when it is checked against the ledger."""
    return ClearanceChange(
        clearance_id=str(request.public_id),
        vin=request.application.vehicle.vin,
        kind=request.kind,
        from_status=from_status,
        to_status=to_status,
        change_id=str(change_id),
        actor_id=actor_pseudonym(actor_id),
        remarks_digest=sha256_hex(remarks),
        signer_msp=organisation.msp_id,
        # A lender (one MSP for every lender) signs with its own identity, named by its code.
        signer_identity=organisation.code if organisation.kind in MEMBER_ATTRIBUTES else "",
    )


@dataclass
class PlannedChange:
    """A clearance change checked and ready for the ledger, not yet saved."""

    request: ClearanceRequest
    record: ClearanceChange
    change_id: uuid.UUID
    from_status: str
    actor: User
    organisation: Organisation
    remarks: str


def plan_clearance_change(
    *,
    request: ClearanceRequest,
    to_status: str,
    actor: User,
    organisation: Organisation,
    remarks: str = "",
    change_id: uuid.UUID | None = None,
) -> PlannedChange:
    """Check that ``organisation`` may move the (locked) request to ``to_status``, and build
    what the ledger records of it."""
    from_status = "" if request._state.adding else request.status
    check_clearance_authority(
        kind=request.kind, current=from_status, target=to_status, actor_kind=organisation.kind
    )
    change_id = change_id or _derived_change_id(
        request=request,
        to_status=to_status,
        actor=actor,
        organisation=organisation,
        remarks=remarks,
    )
    if not request._state.adding:
        # Announced (after commit) before the ledger write, so no query follows that write.
        announce_change(
            user_ids=people_concerned(request.application_id),
            event="clearance_changed",
            application_id=request.application_id,
            request_id=request.pk,
        )
    record = ledger_record(
        request=request,
        from_status=from_status,
        to_status=to_status,
        change_id=change_id,
        actor_id=actor.pk,
        remarks=remarks,
        organisation=organisation,
    )
    return PlannedChange(request, record, change_id, from_status, actor, organisation, remarks)


# The namespace of change ids derived from what a change is (see _derived_change_id).
_CHANGE_IDS = uuid.UUID("0f6c3a52-5d0e-4c1b-8a8e-3f2d9b7c4e10")


def _derived_change_id(
    *,
    request: ClearanceRequest,
    to_status: str,
    actor: User,
    organisation: Organisation,
    remarks: str,
) -> uuid.UUID:
    """The same change of the same request version gets the same id: when the database failed
    after the ledger committed, the user's retry is answered from what the ledger recorded
    (the chaincode is idempotent by change id) instead of being refused as a stale move. Any
    difference (another decision, other remarks) is another change."""
    if request._state.adding:
        return uuid.uuid4()
    version = request.updated_at.isoformat() if request.updated_at else ""
    parts = (request.public_id, version, request.status, to_status, actor.pk, organisation.msp_id)
    what = ":".join([*map(str, parts), sha256_hex(remarks)])
    return uuid.uuid5(_CHANGE_IDS, what)


def save_clearance_change(planned: PlannedChange, receipt: Receipt) -> ClearanceStatusChange:
    """The ledger recorded the planned change: save the request and its history row."""
    request, to_status = planned.request, planned.record.to_status
    request.status = to_status
    if to_status in CLEARANCE_DECISIONS:
        request.decided_at = timezone.now()
        request.remarks = planned.remarks
    if request._state.adding:
        request.save(force_insert=True)
        announce_change(
            user_ids=people_concerned(request.application_id),
            event="clearance_changed",
            application_id=request.application_id,
            request_id=request.pk,
        )
    else:
        request.save(update_fields=["status", "decided_at", "remarks", "assigned_to", "updated_at"])
    change = ClearanceStatusChange(
        request=request,
        change_id=planned.change_id,
        from_status=planned.from_status,
        to_status=to_status,
        actor=planned.actor,
        actor_pseudonym=planned.record.actor_id,
        organisation=planned.organisation,
        remarks=planned.remarks,
        remarks_digest=planned.record.remarks_digest,
    )
    change.record_receipt(receipt)
    change.save(force_insert=True)
    return change


def record_clearance_change(
    *,
    request: ClearanceRequest,
    to_status: str,
    actor: User,
    organisation: Organisation,
    remarks: str = "",
    change_id: uuid.UUID | None = None,
) -> ClearanceStatusChange:
    """Move a locked request to ``to_status``, on the ledger and in the database."""
    planned = plan_clearance_change(
        request=request,
        to_status=to_status,
        actor=actor,
        organisation=organisation,
        remarks=remarks,
        change_id=change_id,
    )
    return save_clearance_change(planned, get_ledger().record(planned.record))


def record_clearance_changes(planned: list[PlannedChange]) -> list[ClearanceStatusChange]:
    """Record changes of different requests together: the ledger writes go out at once (one
    round trip, not one each), and nothing is saved unless every one of them committed."""
    receipts = get_ledger().record_all([change.record for change in planned])
    return [
        save_clearance_change(change, receipt)
        for change, receipt in zip(planned, receipts, strict=True)
    ]
