"""The one way a clearance request's status changes: rules, ledger, history, together.

Callers hold the request's row lock inside a transaction. The ledger write happens here,
before the row is saved, so a ledger failure leaves nothing behind.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from django.utils import timezone

from chaincode.rules import CLEARANCE_DECISIONS, check_clearance_authority
from clearance.models import ClearanceRequest, ClearanceStatusChange
from ledger import get_ledger
from ledger.base import ClearanceChange, actor_pseudonym, sha256_hex
from notifications.live import announce_change
from organisations.models import Organisation
from registry.selectors import people_concerned

if TYPE_CHECKING:
    from django.contrib.auth.models import User


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
    from_status = "" if request._state.adding else request.status
    check_clearance_authority(
        kind=request.kind, current=from_status, target=to_status, actor_kind=organisation.kind
    )
    change_id = change_id or uuid.uuid4()
    if not request._state.adding:
        # Announced (after commit) before the ledger write, so no query follows that write.
        announce_change(
            user_ids=people_concerned(request.application_id),
            event="clearance_changed",
            application_id=request.application_id,
            request_id=request.pk,
        )
    pseudonym = actor_pseudonym(actor.pk)
    remarks_digest = sha256_hex(remarks)
    receipt = get_ledger().update_clearance_status(
        ClearanceChange(
            clearance_id=str(request.public_id),
            vin=request.application.vehicle.vin,
            kind=request.kind,
            from_status=from_status,
            to_status=to_status,
            change_id=str(change_id),
            actor_id=pseudonym,
            remarks_digest=remarks_digest,
            signer_msp=organisation.msp_id,
        )
    )
    request.status = to_status
    if to_status in CLEARANCE_DECISIONS:
        request.decided_at = timezone.now()
        request.remarks = remarks
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
    return ClearanceStatusChange.objects.create(
        request=request,
        change_id=change_id,
        from_status=from_status,
        to_status=to_status,
        actor=actor,
        actor_pseudonym=pseudonym,
        organisation=organisation,
        remarks=remarks,
        remarks_digest=remarks_digest,
        ledger_backend=receipt.backend,
        ledger_tx_id=receipt.tx_id,
        ledger_block=receipt.block,
        ledger_timestamp=receipt.timestamp,
    )
