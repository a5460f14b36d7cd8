"""Who sees an official receipt and what they may do with it: the one funnel for receipts.

A receipt is its payer's and the LTO's business: the payer sees and reprints their own; LTO
staff see, reprint and void any office's receipt. Staff are not assigned to offices in
Talaan's data (a membership is of the LTO as a whole), so a void is not limited to the
receipt's own office; the history names who voided it."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import gettext_lazy as _

from organisations.access import Action, Caller
from payments.models import OfficialReceipt


def receipts_visible_to(caller: Caller) -> QuerySet[OfficialReceipt]:
    receipts = OfficialReceipt.objects.select_related("office", "payment", "voided_by")
    if not caller.is_authenticated or caller.api_key is not None:
        return receipts.none()
    if caller.is_lto_staff:
        return receipts
    return receipts.filter(payer_id=caller.user_id)


def receipt_get_for(caller: Caller, number: str) -> OfficialReceipt:
    """The receipt with this number, or a 404 when the caller may not see it (whether or not
    it exists: another payer's receipt number tells them nothing)."""
    if "\x00" in number or len(number) > 40:  # PostgreSQL refuses a NUL in a query
        raise Http404(_("No such receipt."))
    receipt = receipts_visible_to(caller).prefetch_related("items").filter(number=number).first()
    if receipt is None:
        raise Http404(_("No such receipt."))
    return receipt


def receipt_allowed_actions(caller: Caller, receipt: OfficialReceipt) -> set[Action]:
    if not caller.is_authenticated or caller.api_key is not None:
        return set()
    actions: set[Action] = set()
    if caller.is_lto_staff or receipt.payer_id == caller.user_id:
        actions |= {Action.VIEW, Action.REPRINT_RECEIPT}
    if caller.is_lto_staff and not receipt.is_void:
        actions.add(Action.VOID_RECEIPT)
    return actions
