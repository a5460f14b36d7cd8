"""Tables of the embedded ledger (world state, its key history, the log's leaves, its Merkle
tree as C2SP tlog tiles and its signed checkpoints), and the receipt columns every row the
ledger recorded carries."""

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
    """One committed transaction: a leaf of the log, given its position by the sequencer.

    A writer inserts its entry with a number from a database sequence (``seq``), so writers
    share no row; the sequencer sets ``position`` (the leaf's index in the Merkle tree, from 0)
    in the order it integrates committed entries. Entries written before the log was tiled
    (``leaf_version`` 1) kept their places: their position is ``seq - 1``.
    """

    seq = models.BigAutoField(primary_key=True, help_text="The entry's number, from 1.")
    leaf_version = models.PositiveSmallIntegerField(
        default=2, help_text="Format of the leaf's bytes (ledger.leaves)."
    )
    leaf_hash = models.CharField(max_length=64, help_text="Hex SHA-256(0x00 || leaf bytes).")
    position = models.BigIntegerField(
        null=True, blank=True, unique=True, help_text="Index in the tree, from 0; set on inclusion."
    )
    integrated_at = models.DateTimeField(null=True, blank=True)
    tx_id = models.CharField(max_length=64, unique=True)
    function = models.CharField(max_length=64)
    args = models.JSONField()
    creator_msp = models.CharField(max_length=64)
    response = models.TextField(blank=True)
    write_set = models.JSONField(help_text="[key, value or null for a delete] in write order.")
    events = models.JSONField(default=list)
    timestamp = models.DateTimeField()
    prev_hash = models.CharField(max_length=64, blank=True, help_text="Version 1 only.")
    entry_hash = models.CharField(max_length=64)
    tree_root = models.CharField(
        max_length=64, blank=True, help_text="Merkle root of the tree up to this leaf."
    )
    tree_signature = models.CharField(
        max_length=128, blank=True, help_text="Version 1 only: Ed25519 over its tree head."
    )

    class Meta:
        ordering = ["seq"]
        verbose_name_plural = "ledger entries"
        indexes = [
            # What the sequencer reads: the entries still waiting for a position.
            models.Index(
                fields=["seq"], condition=models.Q(position__isnull=True), name="ledger_pending"
            )
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.function} {self.tx_id[:12]}"


class LedgerHead(models.Model):
    """The tree's size and right edge: only the sequencer locks this row, never a writer.

    ``last_hash`` is the hash of the last version-1 entry (the chain the log grew from).
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    size = models.BigIntegerField(default=0)
    last_hash = models.CharField(max_length=64)
    frontier = models.JSONField(default=list)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Ledger head at {self.size}"


class LedgerTile(models.Model):
    """One C2SP tlog tile: up to 256 consecutive hashes at tree level 8 * ``level``.

    A tile only grows, from partial to full; a partial tile of width W is its first W hashes.
    """

    level = models.PositiveSmallIntegerField()
    index = models.BigIntegerField()
    hashes = models.BinaryField(help_text="32-byte hashes, concatenated.")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["level", "index"], name="ledger_tile_unique")
        ]

    def __str__(self) -> str:
        return f"tile {self.level}/{self.index} ({self.width})"

    @property
    def width(self) -> int:
        return len(self.hashes) // 32


class LedgerCheckpoint(models.Model):
    """A signed checkpoint (C2SP tlog-checkpoint in a signed note): the tree at ``size``."""

    size = models.BigIntegerField(primary_key=True)
    root = models.CharField(max_length=64, help_text="Hex Merkle root.")
    note = models.TextField(help_text="The signed note, as served at /ledger/checkpoint.")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["size"]

    def __str__(self) -> str:
        return f"checkpoint {self.size}"


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
