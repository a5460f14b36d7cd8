"""Follow the chaincode's ClearanceStatusUpdated events and confirm each receipt's block.

The position is a database checkpoint (block number, index of the event in its block, and its
transaction id), saved in the same transaction as the confirmation it follows, so a restart
resumes exactly after the last event handled: nothing is confirmed twice or skipped.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from fabric_protos.peer.chaincode_event_pb2 import ChaincodeEvent

from chaincode.contract import CLEARANCE_EVENT
from clearance.models import ClearanceStatusChange
from ledger.exceptions import LedgerUnavailable
from ledger.fabric.backend import FabricLedger
from ledger.fabric.gateway import Transient
from ledger.models import ListenerCheckpoint
from notifications.live import announce_change
from registry.selectors import people_concerned

logger = logging.getLogger(__name__)

DEFAULT_LISTENER = "clearance-events"


@dataclass(frozen=True)
class Outcome:
    block: int
    tx_id: str
    change_id: str
    confirmed: bool
    note: str


def _checkpoint(name: str) -> ListenerCheckpoint:
    checkpoint, _ = ListenerCheckpoint.objects.get_or_create(name=name)
    return checkpoint


@transaction.atomic
def confirm_event(*, name: str, block: int, index: int, event: ChaincodeEvent) -> Outcome:
    """Confirm the history row an event is about, and move the checkpoint past the event."""
    checkpoint = ListenerCheckpoint.objects.select_for_update().get(name=name)
    outcome = _confirm(block, event)
    checkpoint.block_number = block
    checkpoint.tx_index = index
    checkpoint.tx_id = event.tx_id
    checkpoint.save(update_fields=["block_number", "tx_index", "tx_id", "updated_at"])
    return outcome


@transaction.atomic
def finish_block(*, name: str, block: int) -> None:
    """Every event of ``block`` is handled: resume from the next block."""
    ListenerCheckpoint.objects.filter(name=name).update(
        block_number=block + 1, tx_index=-1, tx_id="", updated_at=timezone.now()
    )


def _confirm(block: int, event: ChaincodeEvent) -> Outcome:
    if event.event_name != CLEARANCE_EVENT:
        return Outcome(block, event.tx_id, "", False, f"ignored event {event.event_name}")
    change_id = str(json.loads(event.payload).get("change_id", ""))
    change = (
        ClearanceStatusChange.objects.select_for_update(of=("self",))
        .select_related("request")
        .filter(change_id=change_id)
        .first()
    )
    if change is None:
        return Outcome(block, event.tx_id, change_id, False, "no history row (see reconcile)")
    if change.ledger_tx_id != event.tx_id:
        return Outcome(block, event.tx_id, change_id, False, "recorded in another transaction")
    if change.ledger_block is not None and change.ledger_block != block:
        return Outcome(
            block, event.tx_id, change_id, False, f"receipt says block {change.ledger_block}"
        )
    if change.ledger_confirmed_at is not None:
        return Outcome(block, event.tx_id, change_id, False, "already confirmed")
    change.ledger_block = block
    change.ledger_confirmed_at = timezone.now()
    change.save(update_fields=["ledger_block", "ledger_confirmed_at"])
    announce_change(
        user_ids=people_concerned(change.request.application_id),
        event="ledger_confirmed",
        application_id=change.request.application_id,
        request_id=change.request_id,
    )
    return Outcome(block, event.tx_id, change_id, True, "confirmed")


def follow(
    ledger: FabricLedger, *, name: str = DEFAULT_LISTENER, idle_seconds: float | None = None
) -> Iterator[Outcome]:
    """Handle events from the checkpoint on; with ``idle_seconds``, stop once that quiet.

    Raises LedgerUnavailable when the stream breaks; the caller reconnects, and the next call
    resumes from the checkpoint.
    """
    checkpoint = _checkpoint(name)
    try:
        for response in ledger.gateway.chaincode_events(
            start_block=checkpoint.block_number,
            after_tx_id=checkpoint.tx_id,
            idle_seconds=idle_seconds,
        ):
            # Resuming inside a block, the peer sends only the events after tx_id.
            resumed = checkpoint.tx_id and response.block_number == checkpoint.block_number
            offset = checkpoint.tx_index + 1 if resumed else 0
            for index, event in enumerate(response.events, start=offset):
                outcome = confirm_event(
                    name=name, block=response.block_number, index=index, event=event
                )
                logger.info(
                    "block %s tx %s change %s: %s",
                    outcome.block,
                    outcome.tx_id[:16],
                    outcome.change_id,
                    outcome.note,
                )
                yield outcome
            finish_block(name=name, block=response.block_number)
    except Transient as exc:
        raise LedgerUnavailable(f"The event stream broke: {exc}") from exc
