"""Write back a registration or a change of owner the ledger committed while its database
transaction failed.

Fabric cannot roll a commit back, so the database follows the ledger. The ledger holds the
vehicle record's digest, not the record: the approval is written back only when the vehicle's
numbers, given the file number the approval assigns, are the ones the digest covers. It holds
the owners' pseudonyms, not who they are: a transfer is written back only onto the approved
transfer application whose seller and buyer have those pseudonyms.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime
from typing import Any

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from chaincode.rules import ApplicationStatus
from kernel.i18n import Message
from ledger import get_ledger
from ledger.base import Receipt
from ledger.keepers import Unrepairable
from notifications.services import notify
from registry.events import REGISTRATION_APPROVED
from registry.models import (
    ApplicationStatusChange,
    OriginRecord,
    OwnershipPeriod,
    RegistrationApplication,
    Vehicle,
)
from registry.origins import origin_registered
from registry.records import current_owner, records_grant
from registry.sales import sale_complete
from registry.services import vehicle_digest
from registry.transfers import previous_period, transfer_change_id, transfer_of
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
    if vehicle_digest(vehicle, owner_id=application.applicant_id) != change["record_digest"]:
        # The plate drawn in the lost transaction is covered by the digest, not recoverable.
        raise Unrepairable(
            f"vehicle {vehicle.vin}'s record does not match the ledger's digest (its plate "
            "number was lost with the transaction): approve it again by hand."
        )
    vehicle.save(update_fields=["mv_file_number", "updated_at"])
    receipt = _receipt(change, backend)
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
    granted = records_grant(application=application, at=receipt.timestamp)
    origin_registered(application=application)
    if seller is not None and seller != application.applicant:
        sale_complete(application=application, seller=seller)
        if granted.ownership is not None:
            # The change of owner committed before the registration: its receipt comes back too.
            transfer = get_ledger().get_change(str(transfer_change_id(application)))
            if transfer is not None:
                _transfer_receipt_keep(granted.ownership, transfer, backend)
    notify(
        recipients=[application.applicant],
        event=REGISTRATION_APPROVED,
        title=Message(
            pgettext_lazy("sms", "Registration approved: plate %(plate)s"),
            {"plate": vehicle.plate_number},
        ),
        body=Message(
            _("MV file number %(mv_file)s. Restored from the ledger's record."),
            {"mv_file": vehicle.mv_file_number},
        ),
        link=reverse("application-detail", args=[application.pk]),
    )
    logger.warning(
        "repaired registration %s from the ledger: application %s approved (tx %s)",
        change_id,
        application.reference,
        change["tx_id"][:16],
    )
    return f"application {application.reference} approved, as the ledger recorded"


def _receipt(change: dict[str, Any], backend: str) -> Receipt:
    return Receipt(
        backend=backend,
        tx_id=change["tx_id"],
        block=None,
        timestamp=datetime.fromisoformat(change["timestamp"].replace("Z", "+00:00")),
    )


def _transfer_receipt_keep(period: OwnershipPeriod, change: dict[str, Any], backend: str) -> None:
    period.ledger_change_id = uuid.UUID(str(change["change_id"]))
    period.record_receipt(_receipt(change, backend))
    period.ledger_confirmed_at = period.repaired_from_ledger_at = timezone.now()
    period.save(
        update_fields=[
            "ledger_change_id",
            *OwnershipPeriod.RECEIPT_FIELDS,
            "ledger_confirmed_at",
            "repaired_from_ledger_at",
            "updated_at",
        ]
    )


@transaction.atomic(durable=True)
def transfer_repair(*, change: dict[str, Any], backend: str) -> str:
    """Keep the receipt of the transfer ``change`` (GetChange's answer on the ``backend``
    ledger) on the buyer's ownership period, opening that period again if its row was lost,
    when the approved transfer application's seller and buyer are the ledger's."""
    change_id = uuid.UUID(str(change["change_id"]))
    vin = str(change["vin"])
    kept = OwnershipPeriod.objects.filter(ledger_change_id=change_id).first()
    if kept is not None:
        # Written back a moment ago with the vehicle's registration (registration_repair).
        return f"transfer of vehicle {vin} is on ownership period {kept.pk} already"
    vehicle = Vehicle.objects.select_for_update().filter(vin=vin, is_active=True).first()
    transfers = RegistrationApplication.objects.filter(
        vehicle=vehicle,
        type=RegistrationApplication.Type.TRANSFER,
        status=ApplicationStatus.APPROVED,
    ).select_related("applicant")
    application = next((a for a in transfers if transfer_change_id(a) == change_id), None)
    if vehicle is None or application is None:
        raise Unrepairable(
            f"no approved transfer of vehicle {vin} in the database made it: its approval was "
            "lost too. It comes back with the vehicle's registration change if the ledger "
            "holds one, else when the LTO approves the transfer again (answered from this "
            "change)."
        )
    period = OwnershipPeriod.objects.filter(vehicle=vehicle, application=application).first()
    if period is None:
        # The buyer's period was lost: open it again where the seller's ended.
        previous = (
            OwnershipPeriod.objects.filter(vehicle=vehicle, ended_on__isnull=False)
            .order_by("-ended_on", "-id")
            .first()
        )
        ended_on = previous.ended_on if previous is not None else None
        if (
            ended_on is None
            or vehicle.ownership_periods.filter(ended_on__isnull=True).exists()
            or vehicle.owner_id != application.applicant_id
        ):
            raise Unrepairable(
                f"vehicle {vin}'s ownership periods do not end with the seller's, and its owner "
                "is not the buyer of the approved transfer: correct them by hand."
            )
        period = OwnershipPeriod.objects.create(
            vehicle=vehicle,
            owner=application.applicant,
            started_on=ended_on,
            acquired=OwnershipPeriod.Acquired.TRANSFER,
            application=application,
        )
    period.ledger_change_id = change_id
    differing = sorted(
        field
        for field, value in transfer_of(period).recorded().items()
        if change.get(field) != value
    )
    if differing:
        raise Unrepairable(
            f"vehicle {vin}'s ownership periods differ from the ledger's transfer in "
            + ", ".join(differing)
            + ": correct them by hand."
        )
    _transfer_receipt_keep(period, change, backend)
    seller = previous_period(period)
    logger.warning(
        "repaired transfer %s from the ledger: vehicle %s from period %s to period %s (tx %s)",
        change_id,
        vin,
        seller.pk if seller is not None else "-",
        period.pk,
        str(change["tx_id"])[:16],
    )
    return f"transfer of vehicle {vin} ({application.reference}) kept, as the ledger recorded"


def origin_repair(*, change: dict[str, Any], backend: str) -> str:
    """An origin the ledger holds and the database lost is not written back: the ledger keeps
    only the digest of what the dealer declared (numbers, CSR, invoice), which cannot be
    turned back into the declaration. The dealer's officer records it again: its change id is
    derived from the dealer and the VIN (registry.origins), so the ledger answers that from
    this change, and the row is kept only if it digests the same."""
    vin = str(change.get("vin", ""))
    kept = OriginRecord.objects.filter(ledger_change_id=str(change.get("change_id", ""))).first()
    if kept is not None:
        return f"origin record of vehicle {vin} is in the database already"
    raise Unrepairable(
        f"the origin of vehicle {vin} by dealer {change.get('dealer')} was lost with its "
        "transaction and the ledger keeps only its digest: the dealer's officer records it "
        "again with the same details, which the ledger answers from this change."
    )
