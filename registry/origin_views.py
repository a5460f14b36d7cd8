"""A dealer's pages: its origin records with their status, the form to record one, and the
sale invitation that lets the buyer register it. Only the dealer's own active people see them:
anyone else gets 404, as on the other organisations' pages."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from kernel.auth import AuthenticatedHttpRequest
from kernel.errors import USER_ERRORS
from kernel.forms_http import form_action
from kernel.i18n import Message
from organisations.models import Organisation
from organisations.selectors import dealers_of
from registry import origins, sales
from registry.forms import OriginForm, OriginSaleForm
from registry.models import OriginRecord
from registry.views import add_form_errors


def _dealer_for(request: AuthenticatedHttpRequest, code: str) -> Organisation:
    """The active dealer ``code`` if the user is one of its active people; 404 otherwise."""
    dealer = dealers_of(request.user).filter(code=code).first()
    if dealer is None:
        raise Http404(_("No such dealer."))
    return dealer


def _origin_for(request: AuthenticatedHttpRequest, code: str, pk: int) -> OriginRecord:
    dealer = _dealer_for(request, code)
    origin = origins.origins_of_dealer(dealer).filter(pk=pk).first()
    if origin is None:
        raise Http404(_("No such origin record."))
    return origin


@login_required
def dealer_origins(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    dealer = _dealer_for(request, code)
    rows = [(origin, origins.origin_status(origin)) for origin in origins.origins_of_dealer(dealer)]
    return render(request, "registry/dealer_origins.html", {"dealer": dealer, "rows": rows[:200]})


@login_required
@require_http_methods(["GET", "POST"])
def dealer_origin_new(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    dealer = _dealer_for(request, code)
    form = OriginForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            origin = origins.origin_record(
                officer=request.user, dealer_id=dealer.pk, **form.cleaned_data
            )
        except USER_ERRORS as exc:
            status = add_form_errors(form, exc)
        else:
            messages.success(
                request,
                str(
                    Message(_("%(vin)s is recorded and signed on the ledger."), {"vin": origin.vin})
                ),
            )
            return redirect("dealer-origin", dealer.code, origin.pk)
    elif request.method == "POST":
        status = 422
    return render(
        request, "registry/dealer_origin_form.html", {"dealer": dealer, "form": form}, status=status
    )


def _detail(
    request: AuthenticatedHttpRequest,
    origin: OriginRecord,
    form: OriginSaleForm | None = None,
    status: int = 200,
) -> HttpResponse:
    return render(
        request,
        "registry/dealer_origin.html",
        {
            "dealer": origin.dealer,
            "origin": origin,
            "status": origins.origin_status(origin),
            "sales": origin.sales.order_by("-created_at"),
            "form": form or OriginSaleForm(),
        },
        status=status,
    )


@login_required
def dealer_origin(request: AuthenticatedHttpRequest, code: str, pk: int) -> HttpResponse:
    return _detail(request, _origin_for(request, code, pk))


@login_required
@form_action("dealer-origin", "code", "pk")
def dealer_origin_sell(request: AuthenticatedHttpRequest, code: str, pk: int) -> HttpResponse:
    origin = _origin_for(request, code, pk)
    form = OriginSaleForm(request.POST)
    if not form.is_valid():
        return _detail(request, origin, form, 422)
    try:
        sale = sales.origin_sale_start(
            officer=request.user, origin_id=origin.pk, **form.cleaned_data
        )
    except USER_ERRORS as exc:
        return _detail(request, origin, form, add_form_errors(form, exc))
    messages.success(
        request,
        str(
            Message(
                _("The buyer gets a link at %(buyer_email)s."), {"buyer_email": sale.buyer_email}
            )
        ),
    )
    return redirect("dealer-origin", origin.dealer.code, origin.pk)
