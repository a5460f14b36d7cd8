"""The embedded ledger's log, served read-only to anyone (c2sp.org/tlog-tiles): the latest
signed checkpoint, the log's verifier key, and the hash tiles.

Only hashes are public. The leaves themselves name VINs, statuses and pseudonyms, so their
bytes (the spec's entry bundles, ``tile/entries/...``) are not served in bulk: a holder of a
receipt checks its own leaf hash against the tiles, and staff read entries on the ledger page.
"""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.cache import cache_control, never_cache
from django.views.decorators.http import require_GET

from ledger import get_ledger, log, merkle
from ledger.models import LedgerCheckpoint, LedgerTile


def _require_log() -> None:
    if not get_ledger().is_transparency_log:
        raise Http404("This ledger keeps no log of its own here.")


@require_GET
@never_cache
def checkpoint(request: HttpRequest) -> HttpResponse:
    _require_log()
    latest = LedgerCheckpoint.objects.order_by("-size").values_list("note", flat=True).first()
    # An empty log still answers: the empty tree, signed now.
    note = latest or log.sign_checkpoint(0, merkle.EMPTY_ROOT)
    return HttpResponse(note, content_type="text/plain; charset=utf-8")


@require_GET
@cache_control(public=True, max_age=86400)
def verifier_key(request: HttpRequest) -> HttpResponse:
    _require_log()
    return HttpResponse(log.current_verifier_key() + "\n", content_type="text/plain")


@require_GET
def tile(request: HttpRequest, path: str) -> HttpResponse:
    _require_log()
    try:
        level, index, width = log.parse_tile_path(f"tile/{path}")
    except ValueError:
        raise Http404("No such tile.") from None
    stored = (
        LedgerTile.objects.filter(level=level, index=index).values_list("hashes", flat=True).first()
    )
    hashes = bytes(stored or b"")
    if len(hashes) < width * log.HASH_SIZE:
        raise Http404("No such tile.")
    response = HttpResponse(
        hashes[: width * log.HASH_SIZE], content_type="application/octet-stream"
    )
    # A tile of a given width never changes: it may be cached for ever.
    response["Cache-Control"] = "public, max-age=31536000, immutable"
    return response
