"""The holds pages: an office's holds (active or lifted), placing one, a hold's page with its
lifting form, and its evidence (for the placing office and LTO staff only; 404 for anyone
else, the vehicle's owner included)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header
from django.utils.translation import gettext_lazy as _
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_http_methods

from kernel.auth import AuthenticatedHttpRequest
from kernel.errors import USER_ERRORS, describe
from kernel.forms_http import form_action
from kernel.i18n import Message
from organisations.access import Caller
from organisations.models import Organisation
from registry.document_services import document_check
from registry.forms import HoldFilterForm, HoldLiftForm, HoldPlaceForm
from registry.holds import (
    can_see_evidence,
    hold_lift,
    hold_offices,
    hold_place,
    holds_visible_to,
    reasons_of,
)
from registry.models import Document, Hold
from registry.views import add_form_errors


def _offices(request: AuthenticatedHttpRequest) -> list[Organisation]:
    offices = hold_offices(Caller.of(request))
    if not offices:
        raise Http404(_("No such page."))
    return offices


def _reasons(offices: list[Organisation]) -> list[tuple[str, str]]:
    labels = dict(Hold.Reason.choices)
    return [(reason, labels[reason]) for office in offices for reason in reasons_of(office.kind)]


@login_required
def holds_index(request: AuthenticatedHttpRequest) -> HttpResponse:
    offices = _offices(request)
    office = next((o for o in offices if o.code == request.GET.get("organisation")), offices[0])
    filters = HoldFilterForm(request.GET or None)
    holds = Hold.objects.filter(organisation=office).select_related("vehicle", "placed_by")
    status = filters.cleaned_data.get("status") if filters.is_valid() else ""
    if status:
        holds = holds.filter(status=status)
    page = Paginator(holds, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "registry/holds.html",
        {"office": office, "offices": offices, "page": page, "filters": filters, "status": status},
    )


@login_required
@require_http_methods(["GET", "POST"])
def hold_new(request: AuthenticatedHttpRequest) -> HttpResponse:
    offices = _offices(request)
    form = HoldPlaceForm(request.POST or None, request.FILES or None, reasons=_reasons(offices))
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            hold = hold_place(
                officer=request.user,
                caller=Caller.of(request),
                vin=form.cleaned_data["vin"],
                reason=form.cleaned_data["reason"],
                evidence=form.cleaned_data["evidence"],
                note=form.cleaned_data["note"],
            )
        except USER_ERRORS as exc:
            status = add_form_errors(form, exc)
        else:
            messages.success(
                request,
                str(
                    Message(
                        _("Hold %(reference)s is placed on %(vin)s."),
                        {"reference": hold.reference, "vin": hold.vin},
                    )
                ),
            )
            return redirect("hold-detail", hold.reference)
    elif request.method == "POST":
        status = 422
    return render(request, "registry/hold_new.html", {"form": form}, status=status)


def _visible_hold(request: AuthenticatedHttpRequest, reference: str) -> Hold:
    hold = (
        holds_visible_to(Caller.of(request))
        .select_related("evidence", "lift_evidence", "placed_by", "lifted_by")
        .filter(reference=reference)
        .first()
    )
    if hold is None:
        raise Http404(_("No such hold."))
    return hold


@login_required
def hold_detail(request: AuthenticatedHttpRequest, reference: str) -> HttpResponse:
    hold = _visible_hold(request, reference)
    return _detail(request, hold, HoldLiftForm())


def _detail(
    request: AuthenticatedHttpRequest, hold: Hold, form: HoldLiftForm, status: int = 200
) -> HttpResponse:
    caller = Caller.of(request)
    return render(
        request,
        "registry/hold_detail.html",
        {
            "hold": hold,
            "form": form,
            "can_lift": hold.is_active and caller.acts_for(hold.organisation_id),
            "can_see_evidence": can_see_evidence(caller, hold),
        },
        status=status,
    )


@login_required
@form_action("hold-detail", "reference")
def hold_lift_page(request: AuthenticatedHttpRequest, reference: str) -> HttpResponse:
    hold = _visible_hold(request, reference)
    form = HoldLiftForm(request.POST, request.FILES)
    if not form.is_valid():
        return _detail(request, hold, form, status=422)
    try:
        hold_lift(
            officer=request.user,
            caller=Caller.of(request),
            hold_id=hold.pk,
            evidence=form.cleaned_data["evidence"],
            note=form.cleaned_data["note"],
        )
    except USER_ERRORS as exc:
        status = add_form_errors(form, exc)
        return _detail(request, hold, form, status=status)
    messages.success(
        request,
        str(
            Message(
                _("Hold %(reference)s is lifted; the owner is told."), {"reference": hold.reference}
            )
        ),
    )
    return redirect("hold-detail", hold.reference)


@login_required
@xframe_options_sameorigin
def hold_evidence(request: AuthenticatedHttpRequest, public_id: str) -> HttpResponse:
    """A hold's evidence, served only after its digest matches the ledger's anchor."""
    document = (
        Document.objects.filter(public_id=public_id, doc_type__in=Document.HOLD_TYPES)
        .select_related("hold_placed", "hold_lifted")
        .first()
    )
    hold = None
    if document is not None:
        hold = getattr(document, "hold_placed", None) or getattr(document, "hold_lifted", None)
    if document is None or hold is None or not can_see_evidence(Caller.of(request), hold):
        raise Http404(_("No such document."))
    checked = document_check(document)
    if checked.content is None:
        error = describe(
            ValidationError(
                _("This document failed its integrity check and is withheld: %(detail)s"),
                params={"detail": checked.check.detail},
            )
        )
        return render(request, "error.html", {"error": error}, status=409)
    response = HttpResponse(checked.content, content_type=document.media_type)
    header = content_disposition_header(bool(request.GET.get("download")), document.original_name)
    assert header is not None  # only for an empty name, which check_file_name refuses
    response["Content-Disposition"] = header
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
