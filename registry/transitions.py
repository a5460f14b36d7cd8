"""The one way an application's status changes: rules checked, history written."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from django.utils import timezone

from chaincode.rules import ApplicationStatus, check_application_transition
from ledger.base import Receipt
from notifications.live import announce_change
from registry.models import ApplicationStatusChange, RegistrationApplication
from registry.selectors import people_concerned

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def record_application_change(
    *,
    application: RegistrationApplication,
    to_status: ApplicationStatus,
    actor: User | None,
    reason: str = "",
    receipt: Receipt | None = None,
    change_id: uuid.UUID | None = None,
) -> ApplicationStatusChange:
    """Move a (locked) application to ``to_status`` and append the history row."""
    from_status = application.status
    check_application_transition(from_status, to_status)
    now = timezone.now()
    application.status = to_status
    fields = ["status", "updated_at"]
    if to_status == ApplicationStatus.SUBMITTED:
        application.submitted_at = now
        fields.append("submitted_at")
    if to_status in RegistrationApplication.FINISHED:
        application.decided_at = now
        fields.append("decided_at")
    if reason and to_status in {ApplicationStatus.RETURNED, ApplicationStatus.REJECTED}:
        application.remarks = reason
        fields.append("remarks")
    elif from_status == ApplicationStatus.RETURNED:
        # The corrections were made: the reason it was returned no longer applies.
        application.remarks = ""
        fields.append("remarks")
    application.save(update_fields=fields)
    announce_change(
        user_ids=people_concerned(application.pk),
        event="application_changed",
        application_id=application.pk,
    )
    change = ApplicationStatusChange(
        application=application,
        change_id=change_id or uuid.uuid4(),
        from_status=from_status,
        to_status=to_status,
        actor=actor,
        reason=reason,
    )
    if receipt is not None:
        change.record_receipt(receipt)
    change.save(force_insert=True)
    return change
