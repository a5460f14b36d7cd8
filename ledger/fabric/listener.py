"""Follow the chaincode's events from a checkpoint and hand each one to a callback.

The callback (a service of the app that owns the rows the event confirms) runs in the same
transaction that moves the checkpoint: block number, index of the event in its block, and its
transaction id. A restart resumes exactly after the last event handled: nothing is handled
twice or skipped.

An event can arrive before the database transaction that wrote its row has committed. The
handler then answers ``pending``: the checkpoint stays before the event, and the listener asks
again until the row is there or the writer has ended without it (``ledger.keepers.confirm``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator

from django.db import transaction
from django.utils import timezone
from fabric_protos.peer.chaincode_event_pb2 import ChaincodeEvent

from ledger.base import Ledger
from ledger.events import EventHandler, LedgerEvent, Outcome
from ledger.exceptions import LedgerUnavailable
from ledger.fabric.gateway import Transient
from ledger.models import ListenerCheckpoint

logger = logging.getLogger(__name__)

DEFAULT_LISTENER = "clearance-events"
# How long to wait before asking again about an event whose writer is still open.
RETRY_SECONDS = 0.2


def _ledger_event(block: int, event: ChaincodeEvent) -> LedgerEvent:
    return LedgerEvent(block=block, tx_id=event.tx_id, name=event.event_name, payload=event.payload)


def _checkpoint(name: str) -> ListenerCheckpoint:
    checkpoint, _ = ListenerCheckpoint.objects.get_or_create(name=name)
    return checkpoint


@transaction.atomic
def confirm_event(
    *, name: str, block: int, index: int, event: ChaincodeEvent, handle: EventHandler
) -> Outcome:
    """Hand the event to its handler, and move the checkpoint past the event, unless the
    handler must see it again (``pending``)."""
    checkpoint = ListenerCheckpoint.objects.select_for_update().get(name=name)
    outcome = handle(event=_ledger_event(block, event))
    if outcome.pending:
        return outcome
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


def follow(
    ledger: Ledger,
    *,
    handle: EventHandler,
    name: str = DEFAULT_LISTENER,
    idle_seconds: float | None = None,
    retry_seconds: float = RETRY_SECONDS,
) -> Iterator[Outcome]:
    """Handle events from the checkpoint on; with ``idle_seconds``, stop once that quiet.

    An event still ``pending`` is yielded once, then asked about every ``retry_seconds``
    until it is settled; the events after it wait.

    Raises LedgerUnavailable when the stream breaks; the caller reconnects, and the next call
    resumes from the checkpoint.
    """
    checkpoint = _checkpoint(name)
    try:
        for response in ledger.events(
            start_block=checkpoint.block_number,
            after_tx_id=checkpoint.tx_id,
            idle_seconds=idle_seconds,
        ):
            # Resuming inside a block, the peer sends only the events after tx_id.
            resumed = checkpoint.tx_id and response.block_number == checkpoint.block_number
            offset = checkpoint.tx_index + 1 if resumed else 0
            for index, event in enumerate(response.events, start=offset):
                outcome = confirm_event(
                    name=name, block=response.block_number, index=index, event=event, handle=handle
                )
                if outcome.pending:
                    logger.info(
                        "tx %s change %s: %s", event.tx_id[:16], outcome.change_id, outcome.note
                    )
                    yield outcome
                while outcome.pending:
                    time.sleep(retry_seconds)
                    outcome = confirm_event(
                        name=name,
                        block=response.block_number,
                        index=index,
                        event=event,
                        handle=handle,
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
