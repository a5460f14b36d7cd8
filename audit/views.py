"""LTO staff: recent ledger entries, each verifiable on demand."""

from __future__ import annotations

import json

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from kernel.auth import AuthenticatedHttpRequest
from ledger import get_ledger
from ledger.models import LedgerEntry
from organisations.selectors import is_lto_staff


def _require_lto(request: HttpRequest) -> None:
    if not is_lto_staff(request.user):
        raise Http404(_("The ledger page is for LTO staff."))


@login_required
def ledger_page(request: AuthenticatedHttpRequest) -> HttpResponse:
    _require_lto(request)
    ledger = get_ledger()
    entries = LedgerEntry.objects.order_by("-seq").only(
        "seq", "tx_id", "function", "creator_msp", "timestamp", "tree_root"
    )
    page = Paginator(entries, 30).get_page(request.GET.get("page"))
    return render(
        request,
        "audit/ledger.html",
        {"page": page, "health": ledger.health(), "backend": ledger.name},
    )


@login_required
@require_POST
def entry_verify(request: AuthenticatedHttpRequest, seq: int) -> HttpResponse:
    """HTMX: check one entry's hash, link, signed tree head and the change it recorded."""
    _require_lto(request)
    ledger = get_ledger()
    if not ledger.is_transparency_log:
        raise Http404(_("Entries are verified on the embedded ledger."))
    entry = get_object_or_404(LedgerEntry, seq=seq)
    change_id = json.loads(entry.response or "{}").get("change_id", "")
    check = ledger.verify_receipt(tx_id=entry.tx_id, change_id=change_id)
    return render(request, "audit/_verify_result.html", {"entry": entry, "check": check})
