"""Browser pages for external organisations: the queue, the decision page, officers, API keys.

Every request is fetched through ``clearance_request_get_for_user``: an officer of one
organisation gets 404 for another organisation's request, on pages and fragments alike.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from chaincode.rules import CLEARANCE_OPEN, ClearanceStatus
from clearance import services
from clearance.api_keys import api_key_create, api_key_revoke
from clearance.details import emission_failures
from clearance.forms import DECISION_FORMS, ApiKeyForm, EmissionReadingsForm, InviteOfficerForm
from clearance.models import ApiKey, ClearanceRequest, Membership, Organisation
from clearance.selectors import (
    clearance_request_get_for_user,
    clearance_requests_for_user,
    emission_limits,
    is_lto_staff,
    memberships_of,
)
from ledger.receipts import receipt_checks
from registry.forms import DocumentForm
from talaan.errors import USER_ERRORS, PermissionDenied, describe


@login_required
def queue(request: HttpRequest) -> HttpResponse:
    """The organisation's open requests, most urgent first; overdue ones stand out."""
    memberships = list(memberships_of(request.user))
    if not memberships:
        return redirect("home")
    show = request.GET.get("show", "open")
    requests = clearance_requests_for_user(request.user).order_by("due_at", "pk")
    now = timezone.now()
    if show == "overdue":
        requests = requests.filter(status__in=CLEARANCE_OPEN, due_at__lt=now)
    elif show == "decided":
        requests = requests.exclude(status__in=CLEARANCE_OPEN).order_by("-decided_at", "-pk")
    else:
        show = "open"
        requests = requests.filter(status__in=CLEARANCE_OPEN)
    page = Paginator(requests, 25).get_page(request.GET.get("page"))
    template = "clearance/_queue_rows.html" if request.htmx else "clearance/queue.html"
    return render(
        request,
        template,
        {"page": page, "memberships": memberships, "show": show, "now": now},
    )


def _decision_form(clearance: ClearanceRequest, data: dict | None = None):  # type: ignore[no-untyped-def]
    form_class = DECISION_FORMS[clearance.kind]
    initial = {}
    if clearance.kind == "EMISSION":
        initial["fuel"] = clearance.application.vehicle.fuel
        initial["test_date"] = timezone.localdate()
        initial["testing_centre"] = clearance.organisation.name
    elif clearance.kind == "INSURANCE":
        initial["insurer"] = clearance.organisation.name
        initial["coverage_start"] = clearance.application.period_start
        initial["coverage_end"] = clearance.application.period_end
    return form_class(data, initial=initial)


def _context(request: HttpRequest, clearance: ClearanceRequest, form=None) -> dict:  # type: ignore[no-untyped-def]
    changes = list(clearance.status_changes.select_related("organisation", "actor"))
    is_member = (
        memberships_of(request.user).filter(organisation_id=clearance.organisation_id).exists()
    )
    limits = emission_limits(clearance.application.vehicle.fuel)
    return {
        "clearance": clearance,
        "application": clearance.application,
        "changes": changes,
        "checks": receipt_checks(changes),
        "documents": clearance.application.documents.select_related("uploaded_by"),
        "form": form or _decision_form(clearance),
        "document_form": DocumentForm(initial={"clearance_request": clearance.pk}),
        "is_member": is_member,
        "can_claim": is_member and clearance.status == ClearanceStatus.PENDING,
        "can_decide": is_member and clearance.status == ClearanceStatus.IN_REVIEW,
        "limits": limits,
        "now": timezone.now(),
    }


@login_required
def clearance_detail(request: HttpRequest, pk: int) -> HttpResponse:
    clearance = clearance_request_get_for_user(user=request.user, pk=pk)
    return render(request, "clearance/detail.html", _context(request, clearance))


@login_required
@require_POST
def clearance_claim(request: HttpRequest, pk: int) -> HttpResponse:
    clearance = clearance_request_get_for_user(user=request.user, pk=pk)
    try:
        services.clearance_claim(request_id=clearance.pk, officer=request.user)
    except USER_ERRORS as exc:
        return _refused(request, clearance, exc)
    messages.success(request, "You are reviewing this request.")
    return redirect("clearance-detail", pk)


@login_required
@require_POST
def clearance_decide(request: HttpRequest, pk: int) -> HttpResponse:
    clearance = clearance_request_get_for_user(user=request.user, pk=pk)
    form = _decision_form(clearance, request.POST)
    if not form.is_valid():
        return render(
            request, "clearance/detail.html", _context(request, clearance, form), status=422
        )
    try:
        services.clearance_decide(
            request_id=clearance.pk,
            officer=request.user,
            decision=ClearanceStatus(form.cleaned_data["decision"]),
            remarks=form.cleaned_data["remarks"],
            findings=form.decision_findings(),
        )
    except ValidationError as exc:
        if hasattr(exc, "error_dict"):
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
            clearance.refresh_from_db()
            return render(
                request, "clearance/detail.html", _context(request, clearance, form), status=422
            )
        return _refused(request, clearance, exc, form)
    except USER_ERRORS as exc:
        return _refused(request, clearance, exc, form)
    messages.success(request, f"Decision recorded: {form.cleaned_data['decision']}.")
    return redirect("clearance-detail", pk)


def _refused(request: HttpRequest, clearance: ClearanceRequest, exc: Exception, form=None):  # type: ignore[no-untyped-def]
    info = describe(exc)
    clearance.refresh_from_db()
    context = _context(request, clearance, form)
    context["error"] = info
    return render(request, "clearance/detail.html", context, status=info.status)


@login_required
@require_GET
def emission_check(request: HttpRequest, pk: int) -> HttpResponse:
    """HTMX fragment: the readings typed so far, each against its limit."""
    clearance = clearance_request_get_for_user(user=request.user, pk=pk)
    if clearance.kind != "EMISSION":
        raise Http404("Not an emission clearance.")
    form = EmissionReadingsForm(request.GET)
    failures: dict[str, str] = {}
    if form.is_valid():
        failures = emission_failures(form.readings())
    return render(
        request,
        "clearance/_emission_check.html",
        {
            "form": form,
            "failures": failures,
            "limits": emission_limits(form.data.get("fuel") or clearance.application.vehicle.fuel),
            "checked": form.is_valid(),
        },
    )


@login_required
def organisation(request: HttpRequest) -> HttpResponse:
    """Org admins: their officers (invite, deactivate) and the organisation's overdue items."""
    membership = memberships_of(request.user).filter(role=Membership.Role.ADMIN).first()
    if membership is None:
        raise Http404("You do not administer an organisation.")
    org = membership.organisation
    form = InviteOfficerForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            services.membership_invite(
                organisation_id=org.pk,
                admin=request.user,
                site_url=request.build_absolute_uri("/").rstrip("/"),
                **form.cleaned_data,
            )
        except USER_ERRORS as exc:
            if isinstance(exc, ValidationError) and hasattr(exc, "error_dict"):
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                form.add_error(None, describe(exc).message)
            status = 422
        else:
            messages.success(request, "Officer invited; they will receive an e-mail.")
            return redirect("organisation")
    elif request.method == "POST":
        status = 422
    now = timezone.now()
    return render(
        request,
        "clearance/organisation.html",
        {
            "organisation": org,
            "api_keys": org.api_keys.order_by("-created_at"),
            "lto_staff": is_lto_staff(request.user),
            "members": org.memberships.select_related("user").order_by(
                "-is_active", "user__username"
            ),
            "form": form,
            "overdue": ClearanceRequest.objects.filter(
                organisation=org, status__in=CLEARANCE_OPEN, due_at__lt=now
            ).select_related("application__vehicle", "assigned_to"),
        },
        status=status,
    )


@login_required
@require_POST
def membership_deactivate(request: HttpRequest, pk: int) -> HttpResponse:
    # Fetched among the admin's own organisations only, so other memberships are 404.
    admin_orgs = memberships_of(request.user).filter(role=Membership.Role.ADMIN)
    membership = get_object_or_404(
        Membership, pk=pk, organisation_id__in=admin_orgs.values("organisation_id")
    )
    try:
        services.membership_deactivate(membership_id=membership.pk, admin=request.user)
    except USER_ERRORS as exc:
        messages.error(request, describe(exc).message)
    else:
        messages.success(request, f"{membership.user} can no longer act for the organisation.")
    return redirect("organisation")


# API keys. One funnel decides who may manage an organisation's keys: LTO staff for any
# organisation, an organisation's admins for their own. Officers of the organisation are told
# no (403); anyone else learns nothing of it (404).


def _organisation_for_key_manager(user, organisation_id: int) -> Organisation:  # type: ignore[no-untyped-def]
    if is_lto_staff(user):
        return get_object_or_404(Organisation, pk=organisation_id, is_active=True)
    membership = memberships_of(user).filter(organisation_id=organisation_id).first()
    if membership is None:
        raise Http404("No such organisation.")
    if membership.role != Membership.Role.ADMIN:
        raise PermissionDenied("Only the organisation's admins or LTO staff can manage its keys.")
    return membership.organisation


@login_required
@require_GET
def api_key_index(request: HttpRequest) -> HttpResponse:
    """LTO staff pick an organisation; an organisation's admin goes straight to its keys."""
    if is_lto_staff(request.user):
        organisations = Organisation.objects.filter(is_active=True).order_by("kind", "name")
        return render(request, "clearance/api_key_index.html", {"organisations": organisations})
    membership = memberships_of(request.user).filter(role=Membership.Role.ADMIN).first()
    if membership is None:
        if memberships_of(request.user).exists():
            raise PermissionDenied("Only organisation admins or LTO staff can manage API keys.")
        raise Http404("You do not administer an organisation.")
    return redirect("api-keys", membership.organisation_id)


@never_cache  # the page that shows a new key's secret must not be kept by any cache
@login_required
@require_http_methods(["GET", "POST"])
def api_keys(request: HttpRequest, organisation_id: int) -> HttpResponse:
    """The organisation's keys, and issuing one; the secret is shown once, in this answer."""
    org = _organisation_for_key_manager(request.user, organisation_id)
    form = ApiKeyForm(request.POST if request.method == "POST" else None)
    context: dict = {"organisation": org, "form": form}
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            try:
                key, secret = api_key_create(
                    organisation_id=org.pk,
                    admin=request.user,
                    name=form.cleaned_data["name"],
                    scopes=form.cleaned_data["scopes"],
                    expires_at=form.cleaned_data["expires_at"],
                )
            except USER_ERRORS as exc:
                if isinstance(exc, ValidationError) and hasattr(exc, "error_dict"):
                    for field, errors in exc.message_dict.items():
                        form.add_error(field if field in form.fields else None, errors)
                else:
                    form.add_error(None, describe(exc).message)
            else:
                status = 200
                context.update(issued=key, secret=secret, form=ApiKeyForm())
    context["keys"] = org.api_keys.select_related("created_by").order_by("-created_at")
    context["now"] = timezone.now()
    return render(request, "clearance/api_keys.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def api_key_revoke_view(request: HttpRequest, organisation_id: int, pk: int) -> HttpResponse:
    """Ask, then revoke: the key stops working at once."""
    org = _organisation_for_key_manager(request.user, organisation_id)
    key = get_object_or_404(ApiKey, pk=pk, organisation=org)
    if request.method == "GET":
        return render(request, "clearance/api_key_revoke.html", {"organisation": org, "key": key})
    if key.revoked_at is not None:
        messages.info(request, f"{key} was already revoked.")
    else:
        api_key_revoke(key_id=key.pk, admin=request.user)
        messages.success(request, f"{key} is revoked; requests made with it are now refused.")
    return redirect("api-keys", org.pk)
