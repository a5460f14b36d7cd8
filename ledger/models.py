"""Tables of the embedded ledger (world state, its key history, the hash-chained log), and the
receipt columns every row the ledger recorded carries."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from ledger.base import Receipt


class RecordedOnLedger(models.Model):
    """A row whose change the ledger recorded: the receipt of that write, defined once."""

    ledger_backend = models.CharField(max_length=20, blank=True)
    ledger_tx_id = models.CharField(max_length=128, blank=True, db_index=True)
    ledger_block = models.BigIntegerField(null=True, blank=True)
    ledger_timestamp = models.DateTimeField(null=True, blank=True)
    # When the ledger's event for the write was seen committed (ledger_listen).
    ledger_confirmed_at = models.DateTimeField(null=True, blank=True)
    # Set when the row was written from what the ledger recorded, after the database
    # transaction that made the change had failed (reconcile_ledger --repair).
    repaired_from_ledger_at = models.DateTimeField(null=True, blank=True)

    RECEIPT_FIELDS = ("ledger_backend", "ledger_tx_id", "ledger_block", "ledger_timestamp")

    class Meta:
        abstract = True

    def record_receipt(self, receipt: Receipt) -> None:
        """Keep the ledger's receipt on the row (saved by the caller, with the row)."""
        self.ledger_backend = receipt.backend
        self.ledger_tx_id = receipt.tx_id
        self.ledger_block = receipt.block
        self.ledger_timestamp = receipt.timestamp
        if receipt.replayed and receipt.block is not None:
            # A replay points at an earlier transaction whose commit it has just looked up. The
            # listener may have passed that transaction's event while no row had it (the first
            # attempt rolled back), so it would never confirm this row.
            self.ledger_confirmed_at = timezone.now()


class WorldState(models.Model):
    """The chaincode's current key/value state, as a Fabric peer's state database holds it."""

    key = models.CharField(max_length=300, primary_key=True)
    value = models.TextField()
    entry = models.ForeignKey(
        "LedgerEntry", on_delete=models.PROTECT, related_name="+", help_text="Last writer."
    )

    class Meta:
        verbose_name = "world state entry"
        verbose_name_plural = "world state"

    def __str__(self) -> str:
        return self.key


class KeyModification(models.Model):
    """Every write to a key, in ledger order: what GetHistoryForKey reads."""

    key = models.CharField(max_length=300)
    entry = models.ForeignKey("LedgerEntry", on_delete=models.PROTECT, related_name="+")
    value = models.TextField(blank=True)
    is_delete = models.BooleanField(default=False)

    class Meta:
        ordering = ["entry_id", "id"]
        indexes = [models.Index(fields=["key", "entry"])]

    def __str__(self) -> str:
        return f"{self.key} @ #{self.entry_id}"


class LedgerEntry(models.Model):
    """One committed transaction, chained to the one before and a leaf of the Merkle tree."""

    seq = models.BigIntegerField(primary_key=True, help_text="Position in the log, from 1.")
    tx_id = models.CharField(max_length=64, unique=True)
    function = models.CharField(max_length=64)
    args = models.JSONField()
    creator_msp = models.CharField(max_length=64)
    response = models.TextField(blank=True)
    write_set = models.JSONField(help_text="[key, value or null for a delete] in write order.")
    events = models.JSONField(default=list)
    timestamp = models.DateTimeField()
    prev_hash = models.CharField(max_length=64)
    entry_hash = models.CharField(max_length=64)
    tree_root = models.CharField(max_length=64, help_text="Merkle root of entries 1..seq.")
    tree_signature = models.CharField(max_length=128, help_text="Ed25519 over the tree head.")

    class Meta:
        ordering = ["seq"]
        verbose_name_plural = "ledger entries"

    def __str__(self) -> str:
        return f"#{self.seq} {self.function} {self.tx_id[:12]}"


class LedgerHead(models.Model):
    """The single row every append locks: the chain's tip and the tree's right edge."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    size = models.BigIntegerField(default=0)
    last_hash = models.CharField(max_length=64)
    frontier = models.JSONField(default=list)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Ledger head at {self.size}"


class ListenerCheckpoint(models.Model):
    """Where a ledger event listener stopped: resume after this block and transaction."""

    name = models.CharField(max_length=64, unique=True, help_text="Which listener.")
    block_number = models.BigIntegerField(default=0)
    tx_index = models.IntegerField(
        default=-1, help_text="Index of the last handled event in its block; -1 for none."
    )
    tx_id = models.CharField(max_length=64, blank=True, help_text="Last handled transaction.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.name} at block {self.block_number}, tx {self.tx_index}"
