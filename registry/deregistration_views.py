"""The LTO's deregistration page: a confirmation form with the reason, the evidence and a
note, for a vehicle LTO staff can see; 404 for anyone else."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from kernel.auth import AuthenticatedHttpRequest
from kernel.errors import USER_ERRORS
from kernel.i18n import Message
from organisations.access import Action, Caller
from registry import access
from registry.deregistration import deregistration_refusal, vehicle_deregister
from registry.forms import DeregistrationForm
from registry.models import Vehicle
from registry.views import add_form_errors


@login_required
@require_http_methods(["GET", "POST"])
def vehicle_deregister_page(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    caller = Caller.of(request)
    if Action.DEREGISTER not in access.vehicle_permitted_actions(caller):
        raise Http404(_("No such vehicle."))
    vehicle = get_object_or_404(Vehicle, pk=pk)
    form = DeregistrationForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            vehicle_deregister(
                vehicle_id=vehicle.pk,
                actor=request.user,
                caller=caller,
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
                        _("%(vehicle)s is deregistered; its owner is told."), {"vehicle": vehicle}
                    )
                ),
            )
            return redirect("vehicle-ownership", vehicle.pk)
    elif request.method == "POST":
        status = 422
    return render(
        request,
        "registry/vehicle_deregister.html",
        {
            "vehicle": vehicle,
            "form": form,
            "refusal": deregistration_refusal(vehicle),
            "open": Action.DEREGISTER in access.vehicle_allowed_actions(caller, vehicle),
        },
        status=status,
    )
