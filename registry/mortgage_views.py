"""The pages of chattel mortgages: a lender's officers propose, withdraw and release them; the
owner consents or declines. Each page parses input, calls one service (registry.mortgages),
renders; what a person may do comes from registry.access."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from kernel.auth import AuthenticatedHttpRequest
from kernel.errors import USER_ERRORS, describe
from kernel.forms_http import form_action
from kernel.i18n import Message
from organisations.access import Caller
from registry import access, mortgages
from registry.forms import MortgageAnswerForm, MortgageProposeForm, ReasonForm
from registry.models import Mortgage
from registry.views import add_form_errors

if TYPE_CHECKING:
    from django_stubs_ext import StrPromise


@login_required
@require_http_methods(["GET", "POST"])
def mortgage_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    """A lender's mortgages and the form to propose one; the owner's mortgages."""
    caller = Caller.of(request)
    form = MortgageProposeForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            mortgage = mortgages.mortgage_propose(actor=request.user, **form.cleaned_data)
        except USER_ERRORS as exc:
            status = add_form_errors(form, exc)
        else:
            messages.success(
                request,
                str(
                    Message(
                        _("Mortgage %(reference)s proposed: the owner is asked to consent."),
                        {"reference": mortgage.reference},
                    )
                ),
            )
            return redirect("mortgage-detail", mortgage.reference)
    elif request.method == "POST":
        status = 422
    return render(
        request,
        "registry/mortgages.html",
        {
            "mortgages": mortgages.mortgages_for(caller)[:100],
            "is_lender": bool(caller.lender_ids),
            "form": form,
        },
        status=status,
    )


def _detail(
    request: AuthenticatedHttpRequest,
    mortgage: Mortgage,
    status: int = 200,
    refusal: str | StrPromise = "",
) -> HttpResponse:
    caller = Caller.of(request)
    return render(
        request,
        "registry/mortgage_detail.html",
        {
            "mortgage": mortgage,
            "can": {a.value: True for a in access.mortgage_allowed_actions(caller, mortgage)},
            "answer_form": MortgageAnswerForm(),
            "reason_form": ReasonForm(),
            "refusal": refusal,
        },
        status=status,
    )


@login_required
def mortgage_detail(request: AuthenticatedHttpRequest, reference: str) -> HttpResponse:
    return _detail(request, mortgages.mortgage_get_for(Caller.of(request), reference))


@login_required
@form_action("mortgage-detail", "reference")
def mortgage_answer(request: AuthenticatedHttpRequest, reference: str) -> HttpResponse:
    mortgage = mortgages.mortgage_get_for(Caller.of(request), reference)
    form = MortgageAnswerForm(request.POST)
    if not form.is_valid():
        return _detail(request, mortgage, 422, _("Choose whether you consent or decline."))
    try:
        mortgage = mortgages.mortgage_answer(
            owner=request.user,
            reference=mortgage.reference,
            accept=form.cleaned_data["answer"] == "accept",
            reason=form.cleaned_data["reason"],
        )
    except USER_ERRORS as exc:
        info = describe(exc)
        return _detail(request, mortgage, info.status, info.message)
    messages.success(
        request,
        str(
            Message(
                _("Mortgage %(reference)s: %(status)s."),
                {"reference": mortgage.reference, "status": mortgage.get_status_display()},
            )
        ),
    )
    return redirect("mortgage-detail", mortgage.reference)


@login_required
@form_action("mortgage-detail", "reference")
def mortgage_release(request: AuthenticatedHttpRequest, reference: str) -> HttpResponse:
    mortgage = mortgages.mortgage_get_for(Caller.of(request), reference)
    try:
        mortgage = mortgages.mortgage_release(actor=request.user, reference=mortgage.reference)
    except USER_ERRORS as exc:
        info = describe(exc)
        return _detail(request, mortgage, info.status, info.message)
    messages.success(
        request,
        str(Message(_("Mortgage %(reference)s is released."), {"reference": mortgage.reference})),
    )
    return redirect("mortgage-detail", mortgage.reference)


@login_required
@form_action("mortgage-detail", "reference")
def mortgage_withdraw(request: AuthenticatedHttpRequest, reference: str) -> HttpResponse:
    mortgage = mortgages.mortgage_get_for(Caller.of(request), reference)
    form = ReasonForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    try:
        mortgage = mortgages.mortgage_withdraw(
            actor=request.user, reference=mortgage.reference, reason=reason
        )
    except USER_ERRORS as exc:
        info = describe(exc)
        return _detail(request, mortgage, info.status, info.message)
    messages.success(
        request,
        str(Message(_("Mortgage %(reference)s is withdrawn."), {"reference": mortgage.reference})),
    )
    return redirect("mortgage-detail", mortgage.reference)
