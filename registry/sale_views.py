"""The pages of a sale: the seller starts it and files the notice and the deed, the buyer
answers from the e-mailed link, the LTO can cancel; and a vehicle's ownership history."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from kernel.auth import AuthenticatedHttpRequest
from kernel.errors import USER_ERRORS, Conflict, describe
from kernel.forms_http import form_action
from kernel.i18n import Message
from organisations.access import Action, Caller
from organisations.selectors import dealers_of, is_lto_staff
from registry import access, origins, sales
from registry.document_services import document_upload
from registry.forms import DeedOfSaleForm, NoticeOfSaleForm, ReasonForm, SaleStartForm
from registry.holds import hold_events, hold_notice, is_on_hold
from registry.models import Deregistration, Document, OriginFlag, OwnershipPeriod, Sale, Vehicle
from registry.mortgages import active_mortgage
from registry.records import current_owner, valid_certificate
from registry.selectors import vehicle_get_for_user
from registry.views import add_form_errors

if TYPE_CHECKING:
    from django_stubs_ext import StrPromise


@login_required
@require_http_methods(["GET", "POST"])
def sale_start(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    vehicle = vehicle_get_for_user(user=request.user, pk=pk)
    form = SaleStartForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            sale = sales.sale_start(seller=request.user, vehicle_id=vehicle.pk, **form.cleaned_data)
        except USER_ERRORS as exc:
            status = add_form_errors(form, exc)
        else:
            messages.success(
                request,
                str(
                    Message(
                        _("The buyer gets a link at %(buyer_email)s."),
                        {"buyer_email": sale.buyer_email},
                    )
                ),
            )
            return redirect("sale-detail", sale.pk)
    elif request.method == "POST":
        status = 422
    return render(
        request, "registry/sale_start.html", {"vehicle": vehicle, "form": form}, status=status
    )


def _sale_for(request: AuthenticatedHttpRequest, pk: int) -> Sale:
    """The seller's own sale (a dealer's: its people's), or any sale for LTO staff; 404 for
    anyone else."""
    sale = get_object_or_404(
        Sale.objects.select_related("vehicle", "seller", "buyer", "origin__dealer"), pk=pk
    )
    sellers = (
        dealers_of(request.user).filter(pk=sale.origin.dealer_id).exists()
        if sale.origin is not None
        else sale.seller_id == request.user.pk
    )
    if not sellers and not is_lto_staff(request.user):
        raise Http404(_("No such sale."))
    return sale


def _detail(
    request: AuthenticatedHttpRequest, sale: Sale, status: int = 200, **forms: Any
) -> HttpResponse:
    is_seller = sale.seller_id == request.user.pk or (
        sale.origin is not None
        and dealers_of(request.user).filter(pk=sale.origin.dealer_id).exists()
    )
    deeds = (
        Document.objects.filter(application=sale.application, uploaded_by=sale.seller)
        if sale.application_id
        else Document.objects.none()
    )
    return render(
        request,
        "registry/sale_detail.html",
        {
            "sale": sale,
            "is_seller": is_seller,
            "is_lto": is_lto_staff(request.user),
            "deeds": deeds,
            "notice_form": forms.get("notice_form") or NoticeOfSaleForm(),
            "deed_form": forms.get("deed_form") or DeedOfSaleForm(),
            "reason_form": forms.get("reason_form") or ReasonForm(),
            # A refusal not tied to a field, shown at the top: its form may not be on the page.
            "refusals": [error for form in forms.values() for error in form.non_field_errors()],
        },
        status=status,
    )


@login_required
def sale_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    return _detail(request, _sale_for(request, pk))


def _act(
    request: AuthenticatedHttpRequest,
    sale: Sale,
    form: Any,
    form_key: str,
    action: Callable[[dict[str, Any]], object],
    done: str | StrPromise,
) -> HttpResponse:
    """Run ``action`` with the form's data; the sale's page again with the errors (and the
    status they mean) if the form or the service refuses, else back to it with ``done``."""
    if not form.is_valid():
        return _detail(request, sale, 422, **{form_key: form})
    try:
        action(form.cleaned_data)
    except USER_ERRORS as exc:
        return _detail(request, sale, add_form_errors(form, exc), **{form_key: form})
    messages.success(request, done)
    return redirect("sale-detail", sale.pk)


@login_required
@form_action("sale-detail", "pk")
def sale_notice(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    sale = _sale_for(request, pk)
    return _act(
        request,
        sale,
        NoticeOfSaleForm(request.POST),
        "notice_form",
        lambda data: sales.notice_of_sale_file(
            seller=request.user, sale_id=sale.pk, handed_over_on=data["handed_over_on"]
        ),
        _("Your notice of sale is filed with the LTO."),
    )


@login_required
@form_action("sale-detail", "pk")
def sale_deed(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    sale = _sale_for(request, pk)

    def add_deed(data: dict[str, Any]) -> object:
        if sale.application_id is None or sale.seller_id != request.user.pk:
            raise Conflict(_("The deed of sale is added once the buyer has accepted."))
        return document_upload(
            application_id=sale.application_id,
            uploader=request.user,
            doc_type=Document.Type.DEED_OF_SALE,
            upload=data["file"],
        )

    return _act(
        request,
        sale,
        DeedOfSaleForm(request.POST, request.FILES),
        "deed_form",
        add_deed,
        _("The deed of sale is added to the buyer's transfer application."),
    )


@login_required
@require_http_methods(["GET", "POST"])
def sale_withdraw(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Ask, then withdraw: the buyer's link stops working and the offer cannot be revived,
    so the seller confirms on this page before anything changes."""
    sale = _sale_for(request, pk)
    if request.method == "POST":
        try:
            sales.sale_withdraw(seller=request.user, sale_id=sale.pk)
        except USER_ERRORS as exc:
            messages.error(request, describe(exc).message)
        else:
            messages.success(request, _("The sale is withdrawn; the buyer's link no longer works."))
        return redirect("sale-detail", sale.pk)
    if sale.status != Sale.Status.AWAITING_BUYER:
        messages.error(request, _("This sale can no longer be withdrawn."))
        return redirect("sale-detail", sale.pk)
    return render(request, "registry/sale_withdraw.html", {"sale": sale})


@login_required
@form_action("sale-detail", "pk")
def sale_cancel(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    sale = _sale_for(request, pk)
    return _act(
        request,
        sale,
        ReasonForm(request.POST),
        "reason_form",
        lambda data: sales.sale_cancel(actor=request.user, sale_id=sale.pk, reason=data["reason"]),
        _("The sale is cancelled."),
    )


@login_required
@require_http_methods(["GET", "POST"])
def sale_answer(request: AuthenticatedHttpRequest, token: str) -> HttpResponse:
    """The buyer's page from the e-mailed link: the vehicle, the seller's name, two buttons."""
    try:
        sale = sales.sale_for_buyer(user=request.user, token=token)
    except USER_ERRORS as exc:
        info = describe(exc)
        return render(
            request, "registry/sale_answer.html", {"refusal": info.message}, status=info.status
        )
    if request.method == "POST":
        answer = request.POST.get("answer")
        try:
            if answer == "accept":
                sale = sales.sale_accept(buyer=request.user, token=token)
            elif answer == "decline":
                sale = sales.sale_decline(buyer=request.user, token=token)
            else:
                return render(
                    request,
                    "registry/sale_answer.html",
                    {"sale": sale, "token": token, "refusal": _("Choose accept or decline.")},
                    status=422,
                )
        except USER_ERRORS as exc:
            info = describe(exc)
            return render(
                request, "registry/sale_answer.html", {"refusal": info.message}, status=info.status
            )
        if sale.application_id and sale.origin_id:
            messages.success(
                request,
                _(
                    "You accepted. Your vehicle's registration is filed with the dealer's "
                    "numbers: add the papers still missing, then submit it."
                ),
            )
            return redirect("application-detail", sale.application_id)
        if sale.application_id:
            messages.success(
                request,
                _(
                    "You accepted. Add your government ID and certificate of cover, then file "
                    "the transfer application."
                ),
            )
            return redirect("application-detail", sale.application_id)
        messages.success(request, _("You declined the sale; the seller is told."))
        return redirect("home")
    return render(request, "registry/sale_answer.html", {"sale": sale, "token": token})


@login_required
def vehicle_ownership(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Who owned the vehicle when: an owner sees the periods while they owned it; LTO all."""
    lto = is_lto_staff(request.user)
    if lto:
        vehicle = get_object_or_404(Vehicle, pk=pk)
        periods = vehicle.ownership_periods.select_related("owner")
    else:
        periods = OwnershipPeriod.objects.filter(vehicle_id=pk, owner=request.user).select_related(
            "owner", "vehicle"
        )
        if not periods:
            raise Http404(_("You have not owned this vehicle."))
        vehicle = periods[0].vehicle
    # A former owner sees their own periods and nothing of the vehicle's present: not its
    # current owner's mortgage, nor a hold placed since.
    concerned = lto or current_owner(vehicle) == request.user
    return render(
        request,
        "registry/vehicle_ownership.html",
        {
            "vehicle": vehicle,
            "origin": origins.origin_of(vehicle),
            "origin_flag": OriginFlag.objects.filter(vehicle=vehicle)
            .select_related("origin__dealer")
            .first(),
            "periods": periods,
            "is_lto": lto,
            "certificates": vehicle.certificates.filter(owner=request.user)
            if not lto
            else vehicle.certificates.all(),
            "sellable": current_owner(vehicle) == request.user
            and valid_certificate(vehicle) is not None
            and not is_on_hold(vehicle.vin),
            # Final, so shown to everyone who sees the vehicle's history.
            "deregistration": Deregistration.objects.filter(vehicle=vehicle)
            .select_related("evidence", "decided_by")
            .first(),
            # Encumbered: named to the owner and the LTO (the public verify page says only
            # that it is).
            "mortgage": active_mortgage(vehicle) if concerned else None,
            "can_deregister": lto
            and Action.DEREGISTER in access.vehicle_allowed_actions(Caller.of(request), vehicle),
            # Both moves of every hold are in the history; the owner sees whom to contact,
            # never the reason, the note or the evidence.
            "hold_notice": hold_notice(vehicle.vin) if concerned else "",
            "hold_events": hold_events(vehicle.vin) if concerned else [],
        },
    )
