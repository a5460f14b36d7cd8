"""Where each Certificate of Registration sits in the public revocation status lists, and the
lists themselves (W3C Bitstring Status List v1.0).

One purpose, ``revocation``: a CR that is superseded or revoked never becomes valid again, which
is what that purpose means (``suspension`` is for states that can be undone; a CR has none). The
bit says only "no longer valid"; the public verify page at the credential's ``id`` says why.

A certificate's ``status_index`` is global: list ``index // LIST_SIZE``, bit
``index % LIST_SIZE``. Indexes are drawn at random (the spec asks for that, so a position says
nothing about when a CR was issued or how many there are) in the first list that is less than
half full, so a draw rarely hits a taken one. The unique column settles races between two
issuers drawing the same index at once: the loser draws again.
"""

from __future__ import annotations

import base64
import gzip
import secrets
from collections.abc import Callable, Iterable

from django.db import IntegrityError, transaction

from registry.models import Certificate

# 131,072 entries (16 KiB of bits): the spec's minimum, for herd privacy.
LIST_SIZE = 131_072
# A list takes new indexes until it is half full; the next one takes over after that.
FILL_LIMIT = LIST_SIZE // 2
MAX_DRAWS = 64
STATUS_PURPOSE = "revocation"


class NoFreeIndex(RuntimeError):
    pass


def list_and_bit(index: int) -> tuple[int, int]:
    return divmod(index, LIST_SIZE)


def index_of(certificate: Certificate, *, draw: Callable[[int], int] = secrets.randbelow) -> int:
    """The certificate's status list index, drawn now if it has none yet.

    Runs in its own savepoints, so a collision rolls back only the draw that lost.
    """
    if certificate.status_index is not None:
        return certificate.status_index
    assigned = Certificate.objects.exclude(status_index=None)
    list_number = assigned.count() // FILL_LIMIT
    for _ in range(MAX_DRAWS):
        candidate = list_number * LIST_SIZE + draw(LIST_SIZE)
        if assigned.filter(status_index=candidate).exists():
            continue
        try:
            with transaction.atomic():
                # Only if still unassigned: a concurrent download may have given it one.
                updated = Certificate.objects.filter(pk=certificate.pk, status_index=None).update(
                    status_index=candidate
                )
        except IntegrityError:
            continue  # someone else took this index between our check and our write
        if not updated:
            certificate.refresh_from_db(fields=["status_index"])
        else:
            certificate.status_index = candidate
        assert certificate.status_index is not None
        return certificate.status_index
    raise NoFreeIndex(f"No free status list index in list {list_number} after {MAX_DRAWS} draws.")


def revoked_bits(list_number: int) -> Iterable[int]:
    """The bits set in a list: certificates there that are no longer valid, read now."""
    start = list_number * LIST_SIZE
    indexes = (
        Certificate.objects.filter(status_index__gte=start, status_index__lt=start + LIST_SIZE)
        .exclude(status=Certificate.Status.VALID)
        .values_list("status_index", flat=True)
    )
    return (index for index in indexes if index is not None)


def encoded_list(set_bits: Iterable[int]) -> str:
    """The spec's ``encodedList``: multibase base64url (prefix "u", no padding) of the GZIP'd
    bitstring, index 0 the left-most (most significant) bit of the first byte."""
    bitstring = bytearray(LIST_SIZE // 8)
    for index in set_bits:
        position = index % LIST_SIZE
        bitstring[position // 8] |= 0x80 >> (position % 8)
    # mtime=0: the same statuses always give the same bytes.
    compressed = gzip.compress(bytes(bitstring), mtime=0)
    return "u" + base64.urlsafe_b64encode(compressed).rstrip(b"=").decode()


def is_listed(list_number: int) -> bool:
    """Whether a list exists: one that holds at least one certificate's index."""
    start = list_number * LIST_SIZE
    return Certificate.objects.filter(
        status_index__gte=start, status_index__lt=start + LIST_SIZE
    ).exists()
