"""A change of owner on the ledger: the seller's and the buyer's pseudonyms for the vehicle,
signed by the LTO, its receipt kept on the ownership period the transfer began."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from ledger import get_ledger
from ledger.base import OwnershipTransfer, Receipt, owner_pseudonym
from organisations.selectors import lto_organisation
from registry.models import OwnershipPeriod, RegistrationApplication

if TYPE_CHECKING:
    from django.contrib.auth.models import User

_CHANGE_NAMESPACE = uuid.UUID("6f0d7c52-4c1e-4a5e-9d43-2a8f1f6b0c17")


def transfer_change_id(application: RegistrationApplication) -> uuid.UUID:
    """The transfer's change id, derived from the application: a retry after the database lost
    a transfer the ledger committed is answered from the ledger, instead of refused because
    the ledger's owner is the buyer by then."""
    return uuid.uuid5(_CHANGE_NAMESPACE, f"transfer:{application.reference}")


def transfer_record(
    *, vin: str, seller_id: int | None, buyer_id: int, change_id: uuid.UUID, signer_msp: str = ""
) -> OwnershipTransfer:
    """What the ledger records of a transfer: built here for the write, and again from the
    buyer's period whenever it is checked (which compares what ``recorded()`` names)."""
    return OwnershipTransfer(
        vin=vin,
        from_owner=owner_pseudonym(vin, seller_id) if seller_id is not None else "",
        to_owner=owner_pseudonym(vin, buyer_id),
        change_id=str(change_id),
        signer_msp=signer_msp,
    )


def previous_period(period: OwnershipPeriod) -> OwnershipPeriod | None:
    """The period that ended when ``period`` began: the seller's."""
    return (
        OwnershipPeriod.objects.filter(
            vehicle_id=period.vehicle_id,
            ended_on__isnull=False,
            ended_on__lte=period.started_on,
        )
        .exclude(pk=period.pk)
        .order_by("-ended_on", "-id")
        .first()
    )


def transfer_of(period: OwnershipPeriod) -> OwnershipTransfer:
    """The ledger record of the transfer that began ``period``, from the rows."""
    previous = previous_period(period)
    return transfer_record(
        vin=period.vehicle.vin,
        seller_id=previous.owner_id if previous is not None else None,
        buyer_id=period.owner_id,
        change_id=period.ledger_change_id or uuid.UUID(int=0),
    )


def transfer_write(
    *, application: RegistrationApplication, seller: User
) -> tuple[OwnershipTransfer, Receipt]:
    """Record on the ledger that the applicant buys the vehicle from ``seller``, signed by the
    LTO. Before the vehicle is registered to the buyer: the chaincode moves only the owner
    it holds."""
    record = transfer_record(
        vin=application.vehicle.vin,
        seller_id=seller.pk,
        buyer_id=application.applicant_id,
        change_id=transfer_change_id(application),
        signer_msp=lto_organisation().msp_id,
    )
    return record, get_ledger().transfer_ownership(record)


def transfer_keep(*, period: OwnershipPeriod, record: OwnershipTransfer, receipt: Receipt) -> None:
    """Keep the transfer's receipt on the buyer's period."""
    period.ledger_change_id = uuid.UUID(record.change_id)
    period.record_receipt(receipt)
    period.save(
        update_fields=[
            "ledger_change_id",
            *OwnershipPeriod.RECEIPT_FIELDS,
            "ledger_confirmed_at",
            "updated_at",
        ]
    )
