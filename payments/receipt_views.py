"""Official receipt pages: LTO staff's list per office, a receipt's page, its PDF (each
download a counted reprint) and the void confirmation."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _

from kernel.auth import AuthenticatedHttpRequest
from organisations.access import Action, Caller
from organisations.models import Office
from payments import receipt_services
from payments.models import OfficialReceipt
from payments.receipt_access import receipt_allowed_actions, receipt_get_for, receipts_visible_to
from payments.receipt_pdf import render_receipt

if TYPE_CHECKING:
    from django.contrib.auth.models import User


class ReceiptFilters(forms.Form):
    office = forms.ModelChoiceField(
        Office.objects.all(), required=False, to_field_name="code", empty_label=_("All offices")
    )
    issued_from = forms.DateField(
        required=False, label=_("From"), widget=forms.DateInput(attrs={"type": "date"})
    )
    issued_to = forms.DateField(
        required=False, label=_("To"), widget=forms.DateInput(attrs={"type": "date"})
    )
    status = forms.ChoiceField(
        required=False, choices=[("", "Any"), ("valid", "Valid"), ("void", "Void")]
    )


class VoidForm(forms.Form):
    reason = forms.CharField(
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Kept with the receipt, printed on it, and told to the payer."),
    )


@login_required
def receipt_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    caller = Caller.of(request)
    if not caller.is_lto_staff:
        raise Http404(_("The receipts list is for LTO staff."))
    filters = ReceiptFilters(request.GET or None)
    receipts = receipts_visible_to(caller).order_by("office__code", "-serial")
    if filters.is_valid():
        data = filters.cleaned_data
        if data["office"]:
            receipts = receipts.filter(office=data["office"])
        if data["issued_from"]:
            receipts = receipts.filter(issued_at__date__gte=data["issued_from"])
        if data["issued_to"]:
            receipts = receipts.filter(issued_at__date__lte=data["issued_to"])
        if data["status"] == "valid":
            receipts = receipts.filter(voided_at__isnull=True)
        elif data["status"] == "void":
            receipts = receipts.filter(voided_at__isnull=False)
    query = request.GET.copy()
    query.pop("page", None)
    page = Paginator(receipts, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "payments/receipts.html",
        {"filters": filters, "page": page, "query": query.urlencode()},
    )


@login_required
def receipt_detail(request: AuthenticatedHttpRequest, number: str) -> HttpResponse:
    caller = Caller.of(request)
    receipt = receipt_get_for(caller, number)
    return render(
        request,
        "payments/receipt_detail.html",
        {
            "receipt": receipt,
            "actions": receipt_allowed_actions(caller, receipt),
            "reprints": receipt.history.filter(kind="reprinted").count(),
            # Who reprinted or voided it is for LTO staff; the payer sees the void's reason.
            "history": receipt.history.select_related("actor") if caller.is_lto_staff else [],
        },
    )


@login_required
def receipt_pdf(request: AuthenticatedHttpRequest, number: str) -> HttpResponse:
    return reprint_response(request.user, number)


def reprint_response(user: User, number: str) -> HttpResponse:
    """A download: recorded as a reprint and marked so on the PDF (the original is the copy
    e-mailed when it was issued)."""
    receipt, entry, count = receipt_services.receipt_reprint(user=user, number=number)
    pdf = render_receipt(receipt, reprint_number=count, reprinted_at=entry.at)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="official-receipt-{number}.pdf"'
    return response


@login_required
def receipt_void(request: AuthenticatedHttpRequest, number: str) -> HttpResponse:
    """GET: the confirmation with the reason to give; POST: void."""
    caller = Caller.of(request)
    receipt: OfficialReceipt = receipt_get_for(caller, number)
    form = VoidForm(request.POST or None)
    if request.method == "POST":
        # The service says what is wrong (403 not LTO, 409 void already, 422 no reason).
        try:
            receipt_services.receipt_void(
                staff=request.user,
                number=number,
                # Through the form: its field refuses a NUL, which PostgreSQL cannot store.
                reason=form.cleaned_data["reason"] if form.is_valid() else "",
            )
        except receipt_services.ReceiptRefused as exc:
            form.add_error("reason", exc.message)
            context = {"receipt": receipt, "form": form}
            return render(request, "payments/receipt_void.html", context, status=422)
        return redirect("receipt-detail", number)
    if Action.VOID_RECEIPT not in receipt_allowed_actions(caller, receipt):
        raise Http404(_("This receipt cannot be voided by you."))
    return render(request, "payments/receipt_void.html", {"receipt": receipt, "form": form})
