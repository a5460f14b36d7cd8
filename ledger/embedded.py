"""The embedded ledger: the real chaincode, run in-process over tables in the app's database.

Each write runs the contract from ``chaincode/`` against a stub whose state calls read the
world-state table, then inserts the transaction as a leaf of the log with its per-key world
state, inside the caller's database transaction: a status change and its ledger record
commit or roll back together, and writers share no row. A sequencer (``ledger.log``) gives
committed leaves their positions in the Merkle tree and signs checkpoints.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Coroutine, Iterator
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.conf import settings
from django.db import DatabaseError, IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from fabric_protos.ledger.queryresult.kv_query_result_pb2 import KeyModification as KeyModPb
from google.protobuf.timestamp_pb2 import Timestamp

from chaincode.contract import new_chaincode
from ledger import leaves, log, merkle
from ledger.base import (
    Health,
    Ledger,
    Receipt,
    ReceiptCheck,
)
from ledger.enrolment import member_certificate
from ledger.exceptions import InclusionPending, LedgerRejected, LedgerUnavailable
from ledger.models import (
    KeyModification,
    LedgerCheckpoint,
    LedgerEntry,
    LedgerHead,
    WorldState,
)
from ledger.notes import NoteError, signed_parts

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
        lock_reads: bool = False,
    ) -> None:
        self._function = function
        # A write locks each key it reads until its transaction ends, so two writes of one key
        # cannot both build on the same old value (what a Fabric peer's MVCC check refuses).
        self._lock_reads = lock_reads
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
        rows = WorldState.objects.filter(key=key)
        if self._lock_reads:
            rows = rows.select_for_update()
        try:
            value = rows.values_list("value", flat=True).first()
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
    """The canonical bytes of an entry, in its leaf format: what is hashed into the tree."""
    return leaves.content(entry)


def tree_head_message(size: int, root_hex: str) -> bytes:
    """What a version-1 tree-head signature covers (kept so those heads still verify)."""
    return f"talaan-tree-head/v1 {settings.LEDGER_CHANNEL} {size} {root_hex}".encode()


class EmbeddedLedger(Ledger):
    name = "embedded"
    is_transparency_log = True

    @cached_property
    def _chaincode(self) -> Any:
        return new_chaincode()

    @property
    def public_key(self) -> Ed25519PublicKey:
        return log.signing_key().public_key()

    def history(self, vin: str) -> list[dict[str, Any]]:
        return self._evaluate("GetVehicleHistory", [vin])["history"]

    def get_change(self, change_id: str) -> dict[str, Any] | None:
        value = WorldState.objects.filter(key=f"change:{change_id}").values_list("value", flat=True)
        return json.loads(value[0]) if value else None

    def verify_receipt(self, *, tx_id: str, change_id: str) -> ReceiptCheck:
        """Recompute the entry's hash (and, for a chained entry, its link and tree head), check
        the change it recorded is the one the receipt names, then either that it awaits
        inclusion or that it is the leaf at its position under the latest signed checkpoint."""
        entry = LedgerEntry.objects.filter(tx_id=tx_id).first()
        if entry is None:
            return ReceiptCheck(False, _("No such transaction on the ledger."))
        content = entry_content(entry)
        if leaves.entry_hash(content) != entry.entry_hash or (
            leaves.leaf_hash(content) != entry.leaf_hash
        ):
            return ReceiptCheck(
                False, _("Entry #%(seq)s does not match its hash.") % {"seq": entry.seq}
            )
        if entry.leaf_version == leaves.CHAINED:
            problem = self._chained_problem(entry)
            if problem:
                return ReceiptCheck(False, problem)
        recorded = self.get_change(change_id)
        if recorded is None or recorded.get("tx_id") != tx_id:
            return ReceiptCheck(
                False, _("The ledger recorded a different change for this receipt.")
            )
        if entry.position is None:
            return ReceiptCheck(
                True,
                _("Entry #%(seq)s is recorded and awaiting inclusion in the log.")
                % {"seq": entry.seq},
                awaiting_inclusion=True,
            )
        return self._inclusion_check(entry)

    def _chained_problem(self, entry: LedgerEntry) -> str:
        previous = (
            LedgerEntry.objects.filter(seq=entry.seq - 1)
            .values_list("entry_hash", flat=True)
            .first()
            or GENESIS_HASH
        )
        if entry.prev_hash != previous:
            return _("Entry #%(seq)s is not linked to the entry before.") % {"seq": entry.seq}
        try:
            self.public_key.verify(
                bytes.fromhex(entry.tree_signature), tree_head_message(entry.seq, entry.tree_root)
            )
        except (InvalidSignature, ValueError):
            return _("The tree head at entry #%(seq)s is not signed by us.") % {"seq": entry.seq}
        return ""

    def _inclusion_check(self, entry: LedgerEntry) -> ReceiptCheck:
        latest = LedgerCheckpoint.objects.order_by("-size").first()
        position = int(entry.position or 0)
        try:
            if latest is None:
                raise NoteError("no checkpoint")
            checkpoint = log.open_checkpoint(latest.note)
        except NoteError:
            return ReceiptCheck(False, _("The log's latest checkpoint is not signed by us."))
        reader = log.TileReader()
        leaf = bytes.fromhex(entry.leaf_hash)
        try:
            in_tree = position < checkpoint.size and reader.leaf(position) == leaf
            path = log.inclusion_path(position, checkpoint.size, reader) if in_tree else []
        except LedgerUnavailable:
            in_tree = False
        if not in_tree or not merkle.verify_inclusion(
            position, checkpoint.size, leaf, path, checkpoint.root
        ):
            return ReceiptCheck(
                False,
                _("Entry #%(seq)s is not in the log's tree where it says it is.")
                % {"seq": entry.seq},
            )
        return ReceiptCheck(
            True,
            _("Entry #%(seq)s is included in checkpoint %(size)s of the log.")
            % {"seq": entry.seq, "size": checkpoint.size},
            included_in=checkpoint.size,
        )

    def health(self) -> Health:
        try:
            head = LedgerHead.objects.get(pk=1)
            waited = log.merge_delay()
        except (DatabaseError, LedgerHead.DoesNotExist) as exc:
            return Health(False, f"embedded ledger unreadable: {exc}")
        limit = settings.LEDGER_MAX_MERGE_DELAY_SECONDS
        if waited is not None and waited.total_seconds() > limit:
            return Health(
                False,
                f"embedded ledger at {head.size} entries; an entry has waited "
                f"{waited.total_seconds():.1f} s for inclusion (maximum merge delay {limit:g} s):"
                " is the sequencer running?",
            )
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
        *,
        lock_reads: bool = False,
    ) -> tuple[EmbeddedStub, dict[str, Any]]:
        stub = EmbeddedStub(
            function=function,
            args=args,
            msp_id=msp_id,
            tx_id=tx_id,
            timestamp=timestamp,
            identity=identity,
            lock_reads=lock_reads,
        )
        response = drive(self._chaincode.invoke(stub))
        if stub.failure is not None:
            raise LedgerUnavailable() from stub.failure
        if response.status >= 400:
            raise LedgerRejected(response.message or f"{function} was refused.")
        return stub, json.loads(response.payload or b"{}")

    def _evaluate(self, function: str, args: list[str]) -> dict[str, Any]:
        __, payload = self._invoke(function, args, "", secrets.token_hex(32), timezone.now())
        return payload

    def _submit(self, function: str, args: list[str], msp_id: str, identity: str = "") -> Receipt:
        # A savepoint: if anything below fails, the caller's transaction is left as it was.
        with transaction.atomic():
            tx_id = hashlib.sha256(secrets.token_bytes(24) + msp_id.encode()).hexdigest()
            now = timezone.now()
            stub, payload = self._invoke(
                function, args, msp_id, tx_id, now, identity, lock_reads=True
            )
            if payload.get("replayed"):
                original = LedgerEntry.objects.get(tx_id=payload["tx_id"])
                return self._receipt(original, replayed=True)
            if not stub.writes:
                raise LedgerRejected(f"{function} changed nothing on the ledger.")
            entry = self._append(function, args, msp_id, tx_id, now, stub, payload)
            if settings.LEDGER_SEQUENCER == "in-process":
                # One machine, one writer at a time (SQLite): integrating here costs no
                # concurrency, and the receipt comes back with its place in the tree.
                log.integrate()
                entry.refresh_from_db(fields=["position", "tree_root", "integrated_at"])
        return self._receipt(entry)

    def _append(
        self,
        function: str,
        args: list[str],
        msp_id: str,
        tx_id: str,
        now: datetime,
        stub: EmbeddedStub,
        payload: dict[str, Any],
    ) -> LedgerEntry:
        """Insert the leaf and its world-state rows: no row every write shares is touched."""
        entry = LedgerEntry(
            leaf_version=leaves.CURRENT,
            tx_id=tx_id,
            function=function,
            args=args,
            creator_msp=msp_id,
            response=json.dumps(payload, sort_keys=True, separators=(",", ":")),
            write_set=[[key, value] for key, value in stub.writes.items()],
            events=stub.events,
            timestamp=now,
        )
        content = entry_content(entry)
        entry.entry_hash = leaves.entry_hash(content)
        entry.leaf_hash = leaves.leaf_hash(content)
        try:
            entry.save(force_insert=True)
            KeyModification.objects.bulk_create(
                KeyModification(key=key, entry=entry, value=value or "", is_delete=value is None)
                for key, value in stub.writes.items()
            )
            for key, value in stub.writes.items():
                if value is None:
                    WorldState.objects.filter(key=key).delete()
                else:
                    WorldState.objects.update_or_create(
                        key=key, defaults={"value": value, "entry": entry}
                    )
        except IntegrityError as exc:
            # Another write created the same key in the same moment: retrying reads it.
            raise LedgerUnavailable() from exc
        return entry

    def _receipt(self, entry: LedgerEntry, *, replayed: bool = False) -> Receipt:
        return Receipt(
            backend=self.name,
            tx_id=entry.tx_id,
            block=entry.seq,
            timestamp=entry.timestamp,
            proof=self.receipt_promise(entry),
            replayed=replayed,
        )

    def promise_of(self, tx_id: str) -> dict[str, Any] | None:
        """The receipt's proof part for a transaction: leaf hash and promise of inclusion."""
        entry = LedgerEntry.objects.filter(tx_id=tx_id).first()
        return self.receipt_promise(entry) if entry else None

    def receipt_promise(self, entry: LedgerEntry) -> dict[str, Any]:
        """What a receipt carries: the leaf hash and the log's signed promise to include it
        (or, for an entry of the chained log before, the tree head signed with it), and its
        place in the tree once it has one."""
        proof: dict[str, Any] = {
            "leaf_version": entry.leaf_version,
            "entry_hash": entry.entry_hash,
            "leaf_hash": entry.leaf_hash,
        }
        if entry.leaf_version == leaves.CHAINED:
            proof.update(
                tree_size=entry.seq,
                tree_root=entry.tree_root,
                tree_signature=entry.tree_signature,
            )
        else:
            proof["promise"] = log.promise(entry.leaf_hash, entry.timestamp)
            proof["max_merge_delay_seconds"] = settings.LEDGER_MAX_MERGE_DELAY_SECONDS
        if entry.position is not None:
            proof.update(index=entry.position, tree_root=entry.tree_root)
        return proof

    def replay(self) -> Replay:
        from ledger.verify import replay_embedded

        return replay_embedded(self)

    def receipt_proof(self, *, tx_id: str, tree_size: int | None = None) -> dict[str, Any] | None:
        entry = LedgerEntry.objects.filter(tx_id=tx_id).only("seq").first()
        if entry is None:
            return None
        return {
            **self.inclusion_proof(entry.seq, tree_size),
            "public_key": self.public_key.public_bytes_raw().hex(),
            "verifier_key": log.current_verifier_key(),
        }

    def inclusion_proof(self, seq: int, tree_size: int | None = None) -> dict[str, Any]:
        """Prove that entry ``seq`` is in the tree of a signed checkpoint (the latest, or the
        one of ``tree_size`` leaves), in O(log n) tile reads."""
        entry = LedgerEntry.objects.filter(seq=seq).only("seq", "position", "leaf_hash").first()
        if entry is None:
            raise LedgerRejected(f"There is no entry {seq}.")
        if entry.position is None:
            raise InclusionPending()
        latest = LedgerCheckpoint.objects.order_by("-size").values_list("size", flat=True).first()
        size = tree_size or latest or 0
        if not entry.position < size <= (latest or 0):
            raise LedgerRejected(f"Entry {seq} is not within a tree of {size} entries.")
        signed = self.signed_tree_head(size)
        if signed is None:
            raise LedgerRejected(f"No signed checkpoint has {size} entries.")
        reader = log.TileReader()
        return {
            "seq": seq,
            "index": entry.position,
            "tree_size": size,
            "leaf_hash": entry.leaf_hash,
            "path": [node.hex() for node in log.inclusion_path(entry.position, size, reader)],
            **signed,
        }

    def consistency_proof(self, old_size: int, tree_size: int) -> list[str]:
        """Prove that the tree of ``old_size`` leaves is a prefix of the one of ``tree_size``."""
        latest = LedgerCheckpoint.objects.order_by("-size").values_list("size", flat=True).first()
        if not 0 < old_size <= tree_size <= (latest or 0):
            raise LedgerRejected(f"No consistency proof from {old_size} to {tree_size} entries.")
        return [node.hex() for node in log.consistency_path(old_size, tree_size)]

    def signed_tree_head(self, size: int) -> dict[str, str] | None:
        """The signed root at ``size``: a checkpoint, or a tree head of the chained log."""
        checkpoint = LedgerCheckpoint.objects.filter(size=size).first()
        if checkpoint is not None:
            text, signature = signed_parts(checkpoint.note)
            return {
                "tree_root": checkpoint.root,
                "signed_message": text,
                "tree_signature": signature.hex(),
                "checkpoint": checkpoint.note,
            }
        chained = LedgerEntry.objects.filter(position=size - 1, leaf_version=leaves.CHAINED).first()
        if chained is None:
            return None
        return {
            "tree_root": chained.tree_root,
            "signed_message": tree_head_message(size, chained.tree_root).decode(),
            "tree_signature": chained.tree_signature,
            "checkpoint": "",
        }
