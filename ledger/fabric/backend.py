"""The Fabric ledger backend: every write a transaction on a Fabric channel, via the Gateway.

A write is endorse → sign the prepared transaction → submit → wait for the commit status,
signed throughout by the identity of the organisation that made the change. A transient
failure anywhere (including an MVCC read conflict at validation) repeats the whole write as a
new transaction with the same change id, which the chaincode treats as an idempotency key: if
an earlier attempt did commit, the chaincode answers with that record marked ``replayed`` and
nothing is submitted again.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from fabric_protos.gateway.gateway_pb2 import ChaincodeEventsResponse

from ledger.base import (
    EVENTS,
    Health,
    Ledger,
    Receipt,
    ReceiptCheck,
)
from ledger.exceptions import LedgerRejected, LedgerUnavailable
from ledger.fabric import protocol
from ledger.fabric.gateway import GatewayClient, GatewaySettings, Transient

_ABSENT = "is not on the ledger"
_HEALTH_PROBE = "readiness-probe"


def gateway_settings() -> GatewaySettings:
    """The Gateway connection, from Django settings (read when the backend is built)."""
    if not settings.FABRIC_GATEWAY_ENDPOINT:
        raise ImproperlyConfigured("LEDGER_BACKEND=fabric needs FABRIC_GATEWAY_ENDPOINT.")
    return GatewaySettings(
        endpoint=settings.FABRIC_GATEWAY_ENDPOINT,
        tls_ca_file=settings.FABRIC_TLS_CA_FILE,
        tls_server_name=settings.FABRIC_TLS_SERVER_NAME,
        identities_dir=Path(settings.FABRIC_IDENTITIES_DIR),
        deadline_seconds=float(settings.FABRIC_DEADLINE_SECONDS),
        retries=settings.FABRIC_RETRIES,
        retry_seconds=float(settings.FABRIC_RETRY_SECONDS),
        channel=settings.LEDGER_CHANNEL,
        chaincode=settings.LEDGER_CHAINCODE,
        query_msp=settings.FABRIC_QUERY_MSP,
    )


def _parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


class FabricLedger(Ledger):
    lists_changes = True
    streams_events = True
    concurrent_writes = True
    name = "fabric"

    def __init__(self, gateway: GatewayClient | None = None) -> None:
        self.gateway = gateway or GatewayClient(gateway_settings())

    @property
    def _contract(self) -> str:
        return self.gateway.config.chaincode

    def _function(self, name: str) -> str:
        # Qualified by contract name, as the official Gateway clients send it.
        return f"{self._contract}:{name}"

    # Writes.

    def _submit(self, function: str, args: list[str], msp_id: str, identity: str = "") -> Receipt:
        # A dealer signs with its own enrolled identity (FABRIC_IDENTITIES_DIR/<MSP id>/
        # <identity>/), whose certificate tells the chaincode which dealer it is. A missing one
        # is LedgerUnavailable before anything is sent (GatewayClient.identity), never retried.
        return self.gateway.with_retries(
            lambda: self._submit_once(function, args, msp_id, identity), f"Submit {function}"
        )

    def _submit_once(
        self, function: str, args: list[str], msp_id: str, identity: str = ""
    ) -> Receipt:
        gateway = self.gateway
        proposal = gateway.proposal(msp_id, self._function(function), args, identity_name=identity)
        prepared = gateway.endorse(proposal)
        endorsed = protocol.read_prepared(prepared)
        if endorsed.tx_id != proposal.tx_id:
            # A fault of the peer, not a refusal of the change: another attempt may do better.
            raise Transient("The peer prepared a different transaction than proposed.")
        if endorsed.status >= 400:
            raise LedgerRejected(endorsed.message or f"{function} was refused.")
        record = json.loads(endorsed.payload or b"{}")
        if record.get("replayed"):
            # Recorded by an earlier attempt: point at that transaction, submit nothing. Its
            # proof is the original's; this proposal's endorsers endorsed only the lookup.
            original = gateway.commit_status(msp_id, record["tx_id"], identity)
            committed = gateway.committed_transaction(msp_id, record["tx_id"], identity)
            return Receipt(
                backend=self.name,
                tx_id=record["tx_id"],
                block=original.block,
                timestamp=_parse_time(record["timestamp"]),
                proof={
                    "validation_code": original.code_name,
                    "endorsers": committed.endorsers,
                    "channel": gateway.config.channel,
                },
                replayed=True,
            )
        gateway.submit(msp_id, proposal.tx_id, prepared, identity)
        status = gateway.commit_status(msp_id, proposal.tx_id, identity)
        if not status.valid:
            # An invalidated transaction changed nothing (an MVCC conflict, endorsements that
            # disagree or fell short): endorse anew; the change id keeps it to one record.
            raise Transient(f"{proposal.tx_id} was invalidated by {status.code_name}")
        return Receipt(
            backend=self.name,
            tx_id=proposal.tx_id,
            block=status.block,
            timestamp=proposal.timestamp,
            proof={
                "validation_code": status.code_name,
                "endorsers": endorsed.endorsers,
                "channel": gateway.config.channel,
            },
        )

    # Reads.

    def _evaluate(self, function: str, args: list[str]) -> dict[str, Any]:
        return json.loads(self.gateway.evaluate(self._function(function), args) or b"{}")

    def history(self, vin: str) -> list[dict[str, Any]]:
        return self._evaluate("GetVehicleHistory", [vin])["history"]

    def get_change(self, change_id: str) -> dict[str, Any] | None:
        try:
            return self._evaluate("GetChange", [change_id])
        except LedgerRejected as exc:
            if _ABSENT in str(exc):
                return None
            raise

    def verify_receipt(self, *, tx_id: str, change_id: str) -> ReceiptCheck:
        """Check that the change id's ledger record names this transaction, and that the
        transaction committed as valid."""
        recorded = self.get_change(change_id)
        if recorded is None:
            return ReceiptCheck(False, "The ledger has no record of this change.")
        if recorded.get("tx_id") != tx_id:
            return ReceiptCheck(False, "The ledger recorded this change in another transaction.")
        status = self.gateway.with_retries(
            lambda: self.gateway.commit_status(self.gateway.config.query_msp, tx_id),
            "CommitStatus",
        )
        if not status.valid:
            return ReceiptCheck(False, f"The transaction is {status.code_name} on the ledger.")
        return ReceiptCheck(True, f"Committed as valid in block {status.block} of the channel.")

    def events(
        self, *, start_block: int, after_tx_id: str = "", idle_seconds: float | None = None
    ) -> Iterator[ChaincodeEventsResponse]:
        return self.gateway.chaincode_events(
            start_block=start_block, after_tx_id=after_tx_id, idle_seconds=idle_seconds
        )

    def change_ids(self, *, idle_seconds: float) -> set[str]:
        """The change ids of every event a declared ledger function emits on the channel.

        The Gateway streams events but cannot say where the chain ends, so the listing is
        taken as complete once the stream has been quiet for ``idle_seconds``.
        """
        found: set[str] = set()
        try:
            for response in self.gateway.chaincode_events(start_block=0, idle_seconds=idle_seconds):
                for event in response.events:
                    if event.event_name in EVENTS:
                        found.add(str(json.loads(event.payload).get("change_id", "")))
        except Transient as exc:
            raise LedgerUnavailable(f"The event stream broke: {exc}") from exc
        found.discard("")
        return found

    def health(self) -> Health:
        gateway = self.gateway
        try:
            # One attempt, no backoff: a readiness probe must answer quickly.
            gateway.evaluate_once(
                gateway.config.query_msp, self._function("GetChange"), [_HEALTH_PROBE]
            )
        except Transient as exc:
            return Health(False, f"Fabric gateway at {gateway.config.endpoint}: {exc}")
        except LedgerRejected as exc:
            if _ABSENT in str(exc):
                # The chaincode answered that the probe is not on the ledger: all is well.
                return Health(True, f"Fabric gateway at {self.gateway.config.endpoint} answers")
            return Health(False, f"Fabric gateway refused the probe: {exc}")
        except LedgerUnavailable as exc:
            cause = exc.__cause__ or exc
            return Health(False, f"Fabric gateway at {self.gateway.config.endpoint}: {cause}")
        return Health(True, f"Fabric gateway at {self.gateway.config.endpoint} answers")
