"""The embedded ledger: the real chaincode, run in-process over tables in the app's database.

Each write runs the contract from ``chaincode/`` against a stub whose state calls read the
world-state table, then appends the transaction to a hash-chained log whose entries are the
leaves of an RFC 9162 Merkle tree with a signed tree head. All of it happens inside the
caller's database transaction, so a status change and its ledger record commit or roll back
together.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Coroutine, Iterator
from datetime import UTC, datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings
from django.db import DatabaseError, transaction
from django.utils import timezone
from fabric_protos.ledger.queryresult.kv_query_result_pb2 import KeyModification as KeyModPb
from google.protobuf.timestamp_pb2 import Timestamp

from chaincode.contract import new_chaincode
from ledger import merkle
from ledger.base import (
    Health,
    Ledger,
    Receipt,
    ReceiptCheck,
)
from ledger.enrolment import member_certificate
from ledger.exceptions import LedgerRejected, LedgerUnavailable
from ledger.models import KeyModification, LedgerEntry, LedgerHead, WorldState

if TYPE_CHECKING:
    from ledger.verify import Replay

GENESIS_HASH = "0" * 64


def drive(coroutine: Coroutine[Any, Any, Any]) -> Any:
    """Run a coroutine that never suspends to completion in this thread.

    The contract API's methods are coroutines, but our stub answers every state call at once,
    so the chaincode runs synchronously inside the caller's database transaction.
    """
    try:
        coroutine.send(None)
    except StopIteration as finished:
        return finished.value
    coroutine.close()
    raise RuntimeError("The chaincode waited on something the embedded stub cannot provide.")


class _History:
    """An async iterator over a key's modifications, like the shim's HistoryQueryIterator."""

    def __init__(self, items: list[KeyModPb]) -> None:
        self._items = iter(items)

    def __aiter__(self) -> _History:
        return self

    async def __anext__(self) -> KeyModPb:
        try:
            return next(self._items)
        except StopIteration:
            raise StopAsyncIteration from None


class EmbeddedStub:
    """The part of the shim's ChaincodeStub the contract uses, answered from our tables.

    As on a Fabric peer, reads see committed state only (not this transaction's own writes),
    and writes are collected into a write set that is applied only if the contract succeeds.
    """

    def __init__(
        self,
        *,
        function: str,
        args: list[str],
        msp_id: str,
        tx_id: str,
        timestamp: datetime,
        identity: str = "",
    ) -> None:
        self._function = function
        self._args = args
        self._msp_id = msp_id
        # An MSP's own writes carry no certificate here; a dealer's or lender's carries the
        # attribute that names it.
        self._certificate = member_certificate(msp_id, identity) if identity else b""
        self._tx_id = tx_id
        self._timestamp = Timestamp()
        self._timestamp.FromDatetime(timestamp)
        self.writes: dict[str, str | None] = {}
        self.events: list[dict[str, str]] = []
        # A database failure inside the contract must not pass for a chaincode refusal.
        self.failure: DatabaseError | None = None

    def get_function_and_parameters(self) -> tuple[str, list[str]]:
        return self._function, list(self._args)

    def get_txid(self) -> str:
        return self._tx_id

    def get_channel_id(self) -> str:
        return settings.LEDGER_CHANNEL

    def get_creator(self) -> dict[str, Any]:
        return {"mspid": self._msp_id, "idBytes": self._certificate}

    def get_tx_timestamp(self) -> Timestamp:
        return self._timestamp

    async def get_state(self, key: str) -> bytes:
        _check_key(key)
        try:
            value = WorldState.objects.filter(key=key).values_list("value", flat=True).first()
        except DatabaseError as exc:
            self.failure = exc
            raise
        return value.encode() if value is not None else b""

    async def put_state(self, key: str, value: bytes) -> None:
        _check_key(key)
        self.writes[key] = bytes(value).decode()

    async def delete_state(self, key: str) -> None:
        _check_key(key)
        self.writes[key] = None

    async def get_history_for_key(self, key: str) -> _History:
        _check_key(key)
        rows = KeyModification.objects.filter(key=key).select_related("entry")
        items = []
        for row in rows:
            stamp = Timestamp()
            stamp.FromDatetime(row.entry.timestamp)
            items.append(
                KeyModPb(
                    tx_id=row.entry.tx_id,
                    value=row.value.encode(),
                    timestamp=stamp,
                    is_delete=row.is_delete,
                )
            )
        return _History(items)

    def set_event(self, name: str, payload: bytes) -> None:
        # Fabric keeps only the last event a transaction sets.
        self.events = [{"name": name, "payload": bytes(payload).decode()}]


def _check_key(key: str) -> None:
    if not key:
        raise ValueError("A ledger key cannot be empty.")


def entry_content(entry: LedgerEntry) -> bytes:
    """The canonical bytes of an entry: what is hashed into the chain and the tree."""
    body = {
        "seq": entry.seq,
        "tx_id": entry.tx_id,
        "function": entry.function,
        "args": entry.args,
        "creator_msp": entry.creator_msp,
        "response": entry.response,
        "write_set": entry.write_set,
        "events": entry.events,
        "timestamp": entry.timestamp.astimezone(UTC).isoformat(),
        "prev_hash": entry.prev_hash,
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()


def tree_head_message(size: int, root_hex: str) -> bytes:
    """What the tree-head signature covers (RFC 9162's signed tree head, simplified)."""
    return f"talaan-tree-head/v1 {settings.LEDGER_CHANNEL} {size} {root_hex}".encode()


class EmbeddedLedger(Ledger):
    name = "embedded"
    is_transparency_log = True

    @cached_property
    def _chaincode(self) -> Any:
        return new_chaincode()

    @cached_property
    def _signing_key(self) -> Ed25519PrivateKey:
        return Ed25519PrivateKey.from_private_bytes(bytes.fromhex(settings.LEDGER_SIGNING_KEY)[:32])

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self._signing_key.public_key()

    def history(self, vin: str) -> list[dict[str, Any]]:
        return self._evaluate("GetVehicleHistory", [vin])["history"]

    def get_change(self, change_id: str) -> dict[str, Any] | None:
        value = WorldState.objects.filter(key=f"change:{change_id}").values_list("value", flat=True)
        return json.loads(value[0]) if value else None

    def verify_receipt(self, *, tx_id: str, change_id: str) -> ReceiptCheck:
        """Recompute the entry's hash, its link to the entry before, its signed tree head, and
        check that the change it recorded is the one the receipt names."""
        entry = LedgerEntry.objects.filter(tx_id=tx_id).first()
        if entry is None:
            return ReceiptCheck(False, "No such transaction on the ledger.")
        content = entry_content(entry)
        if hashlib.sha256(content).hexdigest() != entry.entry_hash:
            return ReceiptCheck(False, f"Entry #{entry.seq} does not match its hash.")
        previous = (
            LedgerEntry.objects.filter(seq=entry.seq - 1)
            .values_list("entry_hash", flat=True)
            .first()
            or GENESIS_HASH
        )
        if entry.prev_hash != previous:
            return ReceiptCheck(False, f"Entry #{entry.seq} is not linked to the entry before.")
        try:
            self.public_key.verify(
                bytes.fromhex(entry.tree_signature), tree_head_message(entry.seq, entry.tree_root)
            )
        except (InvalidSignature, ValueError):
            return ReceiptCheck(False, f"The tree head at entry #{entry.seq} is not signed by us.")
        recorded = self.get_change(change_id)
        if recorded is None or recorded.get("tx_id") != tx_id:
            return ReceiptCheck(False, "The ledger recorded a different change for this receipt.")
        return ReceiptCheck(True, f"Entry #{entry.seq} verified against the signed tree head.")

    def health(self) -> Health:
        try:
            head = LedgerHead.objects.get(pk=1)
        except (DatabaseError, LedgerHead.DoesNotExist) as exc:
            return Health(False, f"embedded ledger unreadable: {exc}")
        return Health(True, f"embedded ledger at {head.size} entries")

    def entries(self) -> Iterator[LedgerEntry]:
        return LedgerEntry.objects.order_by("seq").iterator(chunk_size=2000)

    def _invoke(
        self,
        function: str,
        args: list[str],
        msp_id: str,
        tx_id: str,
        timestamp: datetime,
        identity: str = "",
    ) -> tuple[EmbeddedStub, dict[str, Any]]:
        stub = EmbeddedStub(
            function=function,
            args=args,
            msp_id=msp_id,
            tx_id=tx_id,
            timestamp=timestamp,
            identity=identity,
        )
        response = drive(self._chaincode.invoke(stub))
        if stub.failure is not None:
            raise LedgerUnavailable() from stub.failure
        if response.status >= 400:
            raise LedgerRejected(response.message or f"{function} was refused.")
        return stub, json.loads(response.payload or b"{}")

    def _evaluate(self, function: str, args: list[str]) -> dict[str, Any]:
        _, payload = self._invoke(function, args, "", secrets.token_hex(32), timezone.now())
        return payload

    def _submit(self, function: str, args: list[str], msp_id: str, identity: str = "") -> Receipt:
        # A savepoint: if anything below fails, the caller's transaction is left as it was.
        with transaction.atomic():
            head = self._lock_head()
            tx_id = hashlib.sha256(secrets.token_bytes(24) + msp_id.encode()).hexdigest()
            now = timezone.now()
            stub, payload = self._invoke(function, args, msp_id, tx_id, now, identity)
            if payload.get("replayed"):
                original = LedgerEntry.objects.get(tx_id=payload["tx_id"])
                return self._receipt(original, replayed=True)
            if not stub.writes:
                raise LedgerRejected(f"{function} changed nothing on the ledger.")
            entry = self._append(head, function, args, msp_id, tx_id, now, stub, payload)
        return self._receipt(entry)

    def _lock_head(self) -> LedgerHead:
        """Lock the head row, creating it for an empty ledger (a freshly flushed database)."""
        head = LedgerHead.objects.select_for_update().filter(pk=1).first()
        if head is not None:
            return head
        if LedgerEntry.objects.exists():
            # Never restart a chain that has entries: that would fork the log.
            raise LedgerUnavailable("The embedded ledger's head is missing; run verify_ledger.")
        LedgerHead.objects.bulk_create(
            [LedgerHead(pk=1, size=0, last_hash=GENESIS_HASH, frontier=[])],
            ignore_conflicts=True,
        )
        return LedgerHead.objects.select_for_update().get(pk=1)

    def _append(
        self,
        head: LedgerHead,
        function: str,
        args: list[str],
        msp_id: str,
        tx_id: str,
        now: datetime,
        stub: EmbeddedStub,
        payload: dict[str, Any],
    ) -> LedgerEntry:
        entry = LedgerEntry(
            seq=head.size + 1,
            tx_id=tx_id,
            function=function,
            args=args,
            creator_msp=msp_id,
            response=json.dumps(payload, sort_keys=True, separators=(",", ":")),
            write_set=[[key, value] for key, value in stub.writes.items()],
            events=stub.events,
            timestamp=now,
            prev_hash=head.last_hash,
        )
        content = entry_content(entry)
        entry.entry_hash = hashlib.sha256(content).hexdigest()
        frontier = merkle.Frontier.from_json(head.size, head.frontier)
        frontier.append(merkle.leaf_hash(content))
        entry.tree_root = frontier.root().hex()
        entry.tree_signature = self._signing_key.sign(
            tree_head_message(entry.seq, entry.tree_root)
        ).hex()
        entry.save(force_insert=True)

        for key, value in stub.writes.items():
            KeyModification.objects.create(
                key=key, entry=entry, value=value or "", is_delete=value is None
            )
            if value is None:
                WorldState.objects.filter(key=key).delete()
            else:
                WorldState.objects.update_or_create(
                    key=key, defaults={"value": value, "entry": entry}
                )

        head.size = entry.seq
        head.last_hash = entry.entry_hash
        head.frontier = frontier.to_json()
        head.save(update_fields=["size", "last_hash", "frontier", "updated_at"])
        return entry

    def _receipt(self, entry: LedgerEntry, *, replayed: bool = False) -> Receipt:
        return Receipt(
            backend=self.name,
            tx_id=entry.tx_id,
            block=entry.seq,
            timestamp=entry.timestamp,
            proof={
                "entry_hash": entry.entry_hash,
                "tree_size": entry.seq,
                "tree_root": entry.tree_root,
                "tree_signature": entry.tree_signature,
            },
            replayed=replayed,
        )

    def replay(self) -> Replay:
        from ledger.verify import replay_embedded

        return replay_embedded(self)

    def receipt_proof(self, *, tx_id: str, tree_size: int | None = None) -> dict[str, Any] | None:
        entry = LedgerEntry.objects.filter(tx_id=tx_id).only("seq").first()
        if entry is None:
            return None
        proof = self.inclusion_proof(entry.seq, tree_size)
        return {
            **proof,
            "signed_message": tree_head_message(proof["tree_size"], proof["tree_root"]).decode(),
            "public_key": self.public_key.public_bytes_raw().hex(),
        }

    def inclusion_proof(self, seq: int, tree_size: int | None = None) -> dict[str, Any]:
        """Prove that entry ``seq`` is in the tree of the first ``tree_size`` entries."""
        head_size = LedgerHead.objects.get(pk=1).size
        size = tree_size or head_size
        if not 1 <= seq <= size <= head_size:
            raise LedgerRejected(f"Entry {seq} is not within a tree of {size} entries.")
        leaves = [
            merkle.leaf_hash(entry_content(entry))
            for entry in LedgerEntry.objects.filter(seq__lte=size).order_by("seq").iterator()
        ]
        root_entry = LedgerEntry.objects.get(seq=size)
        return {
            "seq": seq,
            "tree_size": size,
            "leaf_hash": leaves[seq - 1].hex(),
            "path": [node.hex() for node in merkle.inclusion_proof(seq - 1, leaves)],
            "tree_root": root_entry.tree_root,
            "tree_signature": root_entry.tree_signature,
        }
