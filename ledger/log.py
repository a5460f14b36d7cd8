"""The embedded ledger's transparency log: its Merkle tree kept as C2SP tlog tiles in the
database, the sequencer that integrates committed leaves, signed checkpoints, and proofs.

A tile at level L, index N holds up to 256 consecutive hashes of tree level 8L, starting at
node 256N of that level (c2sp.org/tlog-tiles). Any subtree hash a proof needs is one tile
read plus at most 255 hashings, so an inclusion or consistency proof costs O(log n) reads.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from ledger import merkle
from ledger.exceptions import LedgerUnavailable
from ledger.notes import Checkpoint, NoteError, Verifier, open_note, sign_note, verifier_key

TILE_HEIGHT = 8
TILE_WIDTH = 1 << TILE_HEIGHT
HASH_SIZE = 32
DEFAULT_BATCH = 500
# The advisory lock the one sequencer holds for as long as it runs (PostgreSQL).
SEQUENCER_LEASE = 0x7A1AA9_0001


class LogForked(LedgerUnavailable):
    """The tree's stored state does not extend the last signed checkpoint: never sign it."""


# -- keys ------------------------------------------------------------------------------------


@cache
def _private_key(seed_hex: str) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(bytes.fromhex(seed_hex)[:32])


def signing_key() -> Ed25519PrivateKey:
    return _private_key(settings.LEDGER_SIGNING_KEY)


def origin() -> str:
    return settings.LEDGER_LOG_ORIGIN


def current_verifier_key() -> str:
    return verifier_key(origin(), signing_key().public_key())


def verifiers() -> list[Verifier]:
    """The keys a checkpoint or promise of this log may be signed with: the current one and
    every retired one still listed (LEDGER_RETIRED_VERIFIER_KEYS), so notes signed before a
    rotation still open."""
    keys = [Verifier(origin(), signing_key().public_key())]
    keys += [Verifier.parse(vkey) for vkey in settings.LEDGER_RETIRED_VERIFIER_KEYS]
    return keys


def sign_checkpoint(size: int, root: bytes) -> str:
    return sign_note(Checkpoint(origin(), size, root).text(), origin(), signing_key())


def open_checkpoint(note: str) -> Checkpoint:
    checkpoint = Checkpoint.parse(open_note(note, verifiers()))
    if checkpoint.origin != origin():
        raise NoteError(f"The checkpoint is for {checkpoint.origin!r}, not this log.")
    return checkpoint


# -- the promise of inclusion (a receipt at commit, like CT's signed certificate timestamp) --

PROMISE_HEADER = "talaan inclusion promise"


def promise(leaf_hash_hex: str, timestamp: datetime) -> str:
    """A signed note that says: this leaf will be in the log within the maximum merge delay."""
    deadline = timestamp + timedelta(seconds=settings.LEDGER_MAX_MERGE_DELAY_SECONDS)
    text = (
        f"{PROMISE_HEADER}\n{origin()}\n{base64.b64encode(bytes.fromhex(leaf_hash_hex)).decode()}\n"
        f"{timestamp.isoformat()}\n{deadline.isoformat()}\n"
    )
    return sign_note(text, origin(), signing_key())


def open_promise(note: str) -> tuple[str, datetime, datetime]:
    """Return (leaf hash hex, time, deadline) of a promise signed by this log."""
    lines = open_note(note, verifiers()).split("\n")
    if len(lines) < 5 or lines[0] != PROMISE_HEADER or lines[1] != origin():
        raise NoteError("Not an inclusion promise of this log.")
    try:
        leaf = base64.b64decode(lines[2], validate=True).hex()
        return leaf, datetime.fromisoformat(lines[3]), datetime.fromisoformat(lines[4])
    except ValueError as exc:
        raise NoteError("Not an inclusion promise of this log.") from exc


# -- tile paths ------------------------------------------------------------------------------


def tile_path(level: int, index: int, width: int = TILE_WIDTH) -> str:
    """``tile/<L>/<N>[.p/<W>]``, N in 3-digit elements, all but the last prefixed ``x``."""
    digits = f"{index:03d}"
    digits = "0" * (-len(digits) % 3) + digits
    parts = [digits[i : i + 3] for i in range(0, len(digits), 3)]
    encoded = "/".join([*(f"x{part}" for part in parts[:-1]), parts[-1]])
    suffix = "" if width == TILE_WIDTH else f".p/{width}"
    return f"tile/{level}/{encoded}{suffix}"


def parse_tile_path(path: str) -> tuple[int, int, int]:
    """(level, index, width) of a ``tile/...`` path; ValueError for anything else."""
    parts = path.split("/")
    if len(parts) < 3 or parts[0] != "tile" or not parts[1].isdigit():
        raise ValueError("not a tile path")
    level, rest = int(parts[1]), parts[2:]
    if str(level) != parts[1] or level > 63:
        raise ValueError("bad tile level")
    width = TILE_WIDTH
    if len(rest) >= 2 and rest[-2].endswith(".p"):
        if not rest[-1].isdigit() or str(int(rest[-1])) != rest[-1]:
            raise ValueError("bad partial width")
        width = int(rest[-1])
        if not 1 <= width < TILE_WIDTH:
            raise ValueError("bad partial width")
        rest = [*rest[:-2], rest[-2].removesuffix(".p")]
    *upper, last = rest
    if not all(len(p) == 4 and p[0] == "x" and p[1:].isdigit() for p in upper):
        raise ValueError("bad tile index")
    if len(last) != 3 or not last.isdigit():
        raise ValueError("bad tile index")
    digits = "".join(p[1:] for p in upper) + last
    if upper and upper[0] == "x000":
        raise ValueError("bad tile index")  # one encoding per index
    return level, int(digits), width


# -- reading the tree ------------------------------------------------------------------------


class TileReader:
    """Subtree hashes of the stored tree, each read from one tile (tiles cached per reader)."""

    def __init__(self) -> None:
        from ledger.models import LedgerTile

        self._model = LedgerTile
        self._tiles: dict[tuple[int, int], bytes] = {}
        self.reads = 0

    def tile(self, level: int, index: int) -> bytes:
        key = (level, index)
        if key not in self._tiles:
            self.reads += 1
            stored = (
                self._model.objects.filter(level=level, index=index)
                .values_list("hashes", flat=True)
                .first()
            )
            self._tiles[key] = bytes(stored) if stored is not None else b""
        return self._tiles[key]

    def node(self, height: int, index: int) -> bytes:
        """The hash of the perfect subtree of 2**height leaves starting at leaf index << height."""
        level = height // TILE_HEIGHT
        below = height - level * TILE_HEIGHT
        first = index << below  # the first hash it covers at tree level TILE_HEIGHT * level
        tile = self.tile(level, first >> TILE_HEIGHT)
        offset = first & (TILE_WIDTH - 1)
        hashes = [
            tile[(offset + i) * HASH_SIZE : (offset + i + 1) * HASH_SIZE] for i in range(1 << below)
        ]
        if len(hashes[-1]) != HASH_SIZE:
            raise LedgerUnavailable(f"The log's tile {level}/{first >> TILE_HEIGHT} is missing.")
        return merkle.root_from_leaves(hashes)

    def subtree(self, lo: int, hi: int) -> bytes:
        """MTH of leaves [lo, hi): perfect subtrees read whole, the ragged right edge split."""
        span = hi - lo
        if span & (span - 1) == 0 and lo % span == 0:
            return self.node(span.bit_length() - 1, lo // span)
        split = 1 << ((span - 1).bit_length() - 1)
        return merkle.node_hash(self.subtree(lo, lo + split), self.subtree(lo + split, hi))

    def leaf(self, position: int) -> bytes:
        return self.node(0, position)

    def root(self, size: int) -> bytes:
        return self.subtree(0, size) if size else merkle.EMPTY_ROOT


def inclusion_path(position: int, size: int, reader: TileReader | None = None) -> list[bytes]:
    reader = reader or TileReader()
    return merkle.inclusion_proof_over(position, size, reader.subtree)


def consistency_path(old_size: int, size: int, reader: TileReader | None = None) -> list[bytes]:
    reader = reader or TileReader()
    return merkle.consistency_proof_over(old_size, size, reader.subtree)


# -- the sequencer ---------------------------------------------------------------------------


class _TileWriter:
    """The tiles a batch extends, read once and written once."""

    def __init__(self, model: Any) -> None:
        self._model = model
        self._tiles: dict[tuple[int, int], tuple[Any, bytearray]] = {}

    def add(self, height: int, index: int, node: bytes) -> None:
        if height % TILE_HEIGHT:
            return
        level = height // TILE_HEIGHT
        key = (level, index >> TILE_HEIGHT)
        if key not in self._tiles:
            row = self._model.objects.filter(level=level, index=key[1]).first()
            self._tiles[key] = (row, bytearray(bytes(row.hashes) if row else b""))
        _, hashes = self._tiles[key]
        if len(hashes) != (index & (TILE_WIDTH - 1)) * HASH_SIZE:
            raise LogForked(f"The log's tile {level}/{key[1]} does not end where the tree does.")
        hashes += node

    def save(self) -> None:
        for (level, index), (row, hashes) in self._tiles.items():
            if row is None:
                self._model.objects.create(level=level, index=index, hashes=bytes(hashes))
            else:
                self._model.objects.filter(pk=row.pk).update(hashes=bytes(hashes))


@dataclass(frozen=True)
class Tables:
    """The log's models: the app's, or a migration's historical ones."""

    entry: Any
    head: Any
    tile: Any
    checkpoint: Any

    @classmethod
    def current(cls) -> Tables:
        from ledger.models import LedgerCheckpoint, LedgerEntry, LedgerHead, LedgerTile

        return cls(LedgerEntry, LedgerHead, LedgerTile, LedgerCheckpoint)


def integrate(batch_size: int = DEFAULT_BATCH, tables: Tables | None = None) -> int:
    """Give the oldest committed entries still waiting their positions, extend the tree and its
    tiles, and sign a checkpoint over the new size. Returns how many entries were integrated.

    Runs in its own transaction (a savepoint inside a caller's), holding the head row's lock:
    two sequencers at once wait on each other, and the unique position and checkpoint size
    stop a second one that skipped the lock from forking the log.
    """
    tables = tables or Tables.current()
    with transaction.atomic():
        head = tables.head.objects.select_for_update().filter(pk=1).first()
        if head is None:
            head = _create_head(tables)
        frontier = merkle.Frontier.from_json(head.size, head.frontier)
        _refuse_fork(tables, head.size, frontier.root())
        pending = list(
            tables.entry.objects.filter(position__isnull=True)
            .order_by("seq")
            .only("seq", "leaf_hash")[:batch_size]
        )
        if not pending:
            return 0
        now = timezone.now()
        tiles = _TileWriter(tables.tile)
        for entry in pending:
            entry.position = frontier.size
            for height, index, node in frontier.append_nodes(bytes.fromhex(entry.leaf_hash)):
                tiles.add(height, index, node)
            entry.tree_root = frontier.root().hex()
            entry.integrated_at = now
        tables.entry.objects.bulk_update(
            pending, ["position", "tree_root", "integrated_at"], batch_size=batch_size
        )
        tiles.save()
        root = frontier.root()
        try:
            with transaction.atomic():
                tables.checkpoint.objects.create(
                    size=frontier.size,
                    root=root.hex(),
                    note=sign_checkpoint(frontier.size, root),
                    created_at=now,
                )
        except IntegrityError as exc:
            raise LogForked(f"A checkpoint at size {frontier.size} exists already.") from exc
        head.size = frontier.size
        head.frontier = frontier.to_json()
        head.save(update_fields=["size", "frontier", "updated_at"])
        return len(pending)


def integrate_all(batch_size: int = DEFAULT_BATCH, tables: Tables | None = None) -> int:
    total = 0
    while done := integrate(batch_size, tables):
        total += done
    return total


def _create_head(tables: Tables) -> Any:
    if (
        tables.checkpoint.objects.exists()
        or tables.entry.objects.filter(position__isnull=False).exists()
    ):
        # Never restart a tree that has leaves: that would fork the log.
        raise LogForked("The embedded ledger's head is missing; run verify_ledger.")
    tables.head.objects.bulk_create(
        [tables.head(pk=1, size=0, last_hash="0" * 64, frontier=[])], ignore_conflicts=True
    )
    return tables.head.objects.select_for_update().get(pk=1)


def _refuse_fork(tables: Tables, size: int, root: bytes) -> None:
    """The tree about to be extended must be the one the last checkpoint signed."""
    latest = tables.checkpoint.objects.order_by("-size").first()
    if latest is None:
        if size:
            raise LogForked(f"The tree has {size} leaves and no checkpoint signs them.")
        return
    if latest.size != size or latest.root != root.hex():
        raise LogForked(
            f"The tree's state (size {size}) is not the last signed checkpoint (size "
            f"{latest.size}): refusing to sign a log that forks or rolls back."
        )


def merge_delay() -> timedelta | None:
    """How long the oldest committed entry not yet in the log has waited (None: none waits)."""
    from ledger.models import LedgerEntry

    oldest = (
        LedgerEntry.objects.filter(position__isnull=True)
        .order_by("seq")
        .values_list("timestamp", flat=True)
        .first()
    )
    return timezone.now() - oldest if oldest else None


def hold_lease() -> bool:
    """Take the sequencer's lease for this connection's life (PostgreSQL advisory lock).

    SQLite has no such lock and serialises every writer anyway; there the head row's lock is
    all that is needed, so the lease is always granted.
    """
    if connection.vendor != "postgresql":
        return True
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [SEQUENCER_LEASE])
        return bool(cursor.fetchone()[0])


def release_lease() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [SEQUENCER_LEASE])
