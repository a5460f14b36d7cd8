"""Write back a registration the ledger committed while its database transaction failed.

Fabric cannot roll a commit back, so the database follows the ledger. The ledger holds the
vehicle record's digest, not the record: the approval is written back only when the vehicle's
numbers, given the file number the approval assigns, are the ones the digest covers.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime
from typing import Any

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from chaincode.rules import ApplicationStatus
from ledger.base import Receipt
from ledger.keepers import Unrepairable
from notifications.services import notify
from registry.events import REGISTRATION_APPROVED
from registry.models import ApplicationStatusChange, RegistrationApplication, Vehicle
from registry.records import current_owner, records_grant
from registry.sales import sale_complete
from registry.services import vehicle_digest
from registry.transitions import record_application_change

logger = logging.getLogger(__name__)


@transaction.atomic(durable=True)
def registration_repair(*, change: dict[str, Any], backend: str) -> str:
    """Approve the cleared application of the vehicle ``change`` (GetChange's answer on the
    ``backend`` ledger) registered, with the ledger's receipt, marked as repaired."""
    change_id = str(change["change_id"])
    if ApplicationStatusChange.objects.filter(change_id=change_id).exists():
        raise Unrepairable("its history row is in the database already.")
    application = (
        RegistrationApplication.objects.select_for_update(of=("self",))
        .select_related("applicant")
        .filter(vehicle__vin=change["vin"], vehicle__is_active=True)
        .order_by("-pk")
        .first()
    )
    if application is None or application.status != ApplicationStatus.CLEARED:
        raise Unrepairable(f"no cleared application of vehicle {change['vin']} awaits approval.")
    vehicle = Vehicle.objects.select_for_update().get(pk=application.vehicle_id)
    vehicle.mv_file_number = vehicle.mv_file_number or f"1300-{vehicle.pk:011d}"
    if vehicle_digest(vehicle) != change["record_digest"]:
        # The plate drawn in the lost transaction is covered by the digest, not recoverable.
        raise Unrepairable(
            f"vehicle {vehicle.vin}'s record does not match the ledger's digest (its plate "
            "number was lost with the transaction): approve it again by hand."
        )
    vehicle.save(update_fields=["mv_file_number", "updated_at"])
    receipt = Receipt(
        backend=backend,
        tx_id=change["tx_id"],
        block=None,
        timestamp=datetime.fromisoformat(change["timestamp"].replace("Z", "+00:00")),
    )
    row = record_application_change(
        application=application,
        to_status=ApplicationStatus.APPROVED,
        actor=None,
        reason="Registered on the ledger; restored from it.",
        receipt=receipt,
        change_id=uuid.UUID(change_id),
    )
    now = timezone.now()
    row.ledger_confirmed_at = row.repaired_from_ledger_at = now
    row.save(update_fields=["ledger_confirmed_at", "repaired_from_ledger_at"])
    # What an approval grants (period, ownership, certificate) follows it, as in the service.
    application.vehicle = vehicle
    seller = current_owner(vehicle)
    records_grant(application=application, at=receipt.timestamp)
    if seller is not None and seller != application.applicant:
        sale_complete(application=application, seller=seller)
    notify(
        recipients=[application.applicant],
        event=REGISTRATION_APPROVED,
        title=f"Registration approved: plate {vehicle.plate_number}",
        body=f"MV file number {vehicle.mv_file_number}. Restored from the ledger's record.",
        link=reverse("application-detail", args=[application.pk]),
    )
    logger.warning(
        "repaired registration %s from the ledger: application %s approved (tx %s)",
        change_id,
        application.reference,
        change["tx_id"][:16],
    )
    return f"application {application.reference} approved, as the ledger recorded"
