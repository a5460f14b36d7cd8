"""Browser pages for owners and LTO staff: each parses input, calls one service, renders.

Every object is fetched through the access funnels in the selectors, so a user who may not see
an application gets 404 from every page and fragment that names it.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext_lazy as _
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_http_methods

from kernel.auth import AuthenticatedHttpRequest
from kernel.errors import USER_ERRORS, UserError, describe
from kernel.forms_http import form_action
from kernel.i18n import Message
from kernel.paging import LeanPaginator
from ledger.receipts import receipt_checks
from organisations.access import Action, Caller
from organisations.roles import Role, roles_of
from organisations.selectors import dealers_of, is_lto_staff
from registry import access, origins, participants, progress, records, services
from registry.document_services import (
    document_check,
    document_checklist,
    document_upload,
    missing_documents,
)
from registry.forms import (
    ApplicationForm,
    ApplicationSearchForm,
    ApproveRegistrationForm,
    DocumentForm,
    FlagClearForm,
    HandEntryForm,
    NoteForm,
    ReasonForm,
    VehicleCorrectionForm,
    WithdrawForm,
)
from registry.holds import active_holds, hold_notice
from registry.models import Document, Hold, OriginFlag, RegistrationApplication
from registry.plates import plate_outlook
from registry.search import search_applications
from registry.selectors import application_get_for_user, applications_for_user, vehicles_of

if TYPE_CHECKING:
    from django_stubs_ext import StrPromise


def _role(user: Any) -> str:
    """The home page a person starts on, from what they are (organisations.roles)."""
    roles = roles_of(user)
    if Role.LTO in roles:
        return "lto"
    if Role.DEALER in roles:
        return "dealer"
    if Role.LENDER in roles and Role.ADMIN not in roles:
        return "lender"
    if Role.ADMIN in roles:
        return "org_admin"
    return "officer" if Role.OFFICER in roles else "owner"


@login_required
def home(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Each role's starting page."""
    role = _role(request.user)
    if role == "lto":
        return redirect("lto-queue")
    if role == "dealer":
        dealer = dealers_of(request.user).first()
        if dealer is not None:
            return redirect("dealer-origins", dealer.code)
    if role == "lender":
        # Its mortgages, where it proposes and releases them; consents to transfers are in
        # the clearance queue, linked from there.
        return redirect("mortgages")
    if role in {"officer", "org_admin"}:
        return redirect("clearance-queue")
    applications = applications_for_user(request.user).prefetch_related(
        *participants.history_prefetches()
    )
    page = LeanPaginator(applications, 20).get_page(request.GET.get("page"))
    latest = participants.latest_changes(page)
    vehicles = list(vehicles_of(request.user)[:20])
    outlooks = records.renewal_outlooks(vehicles)
    vehicle_rows = [(vehicle, outlooks.get(vehicle.pk)) for vehicle in vehicles]
    return render(
        request,
        "registry/home.html",
        {
            "page": page,
            "vehicles": vehicle_rows,
            "today": timezone.localdate(),
            "sales": request.user.sales_as_seller.select_related("vehicle")[:10],
            "checks": receipt_checks(latest),
        },
    )


@login_required
def vehicle_new(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = HandEntryForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            vehicle = services.vehicle_register(owner=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_form_errors(form, exc)
            status = 422
        else:
            flagged = OriginFlag.objects.filter(vehicle=vehicle).exists()
            note = _(" It is flagged to the LTO, which decides.") if flagged else ""
            messages.success(
                request,
                str(
                    Message(
                        _("%(vehicle)s is registered to you.%(note)s"),
                        {"vehicle": vehicle, "note": note},
                    )
                ),
            )
            return redirect("home")
    elif request.method == "POST":
        status = 422
    return render(request, "registry/vehicle_form.html", {"form": form}, status=status)


@login_required
def application_new(request: AuthenticatedHttpRequest) -> HttpResponse:
    # "Renew" links on the owner's vehicles pre-select the vehicle and the type.
    initial = {key: request.GET[key] for key in ("vehicle", "type") if key in request.GET}
    form = ApplicationForm(request.POST or None, owner=request.user, initial=initial)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            application = services.application_create(
                applicant=request.user,
                vehicle_id=form.cleaned_data["vehicle"].pk,
                type=form.cleaned_data["type"],
                office_id=getattr(form.cleaned_data.get("office"), "pk", None),
            )
        except USER_ERRORS as exc:
            add_form_errors(form, exc)
            status = describe(exc).status
        else:
            messages.success(
                request,
                str(
                    Message(
                        _("Application %(reference)s created. Add your documents, then submit it."),
                        {"reference": application.reference},
                    )
                ),
            )
            return redirect("application-detail", application.pk)
    elif request.method == "POST":
        status = 422
    return render(request, "registry/application_form.html", {"form": form}, status=status)


def add_form_errors(form: Any, exc: UserError) -> int:
    """Put a service's refusal on the form (each field's message under it, the rest above)
    and return the status it means."""
    if isinstance(exc, ValidationError) and hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, describe(exc).message)
    return describe(exc).status


def application_context(
    request: HttpRequest, application: RegistrationApplication
) -> dict[str, Any]:
    """Everything the application page and its fragments show, for this user."""
    caller = Caller.of(request)
    part = participants.application_page(caller=caller, application=application)
    history = list(application.status_changes.select_related("actor"))
    # The papers the type needs, each uploaded or missing (two queries), for everyone who
    # sees the page: the owner before filing, LTO staff and the clearing officers after.
    checklist = document_checklist(application)
    allowed = access.allowed_actions(caller, application)
    return {
        "application": application,
        **part.context,
        "history": history,
        # What is done, what is next and who is on it; what the owner does once approved.
        "steps": progress.application_steps(application, part.steps),
        "what_next": progress.next_after_approval(application),
        "checks": receipt_checks([*part.changes, *history]),
        "documents": application.documents.select_related("uploaded_by", "clearance_request"),
        "is_owner": application.applicant_id == caller.user_id,
        "is_lto": caller.is_lto_staff,
        "now": timezone.now(),
        # Buttons are drawn from the one answer the services enforce.
        "can": {action.value: True for action in allowed},
        # Why Approve would be refused now (e.g. fees unpaid), shown beside the button.
        "approval_refusals": participants.approval_refusals(application)
        if Action.APPROVE_REGISTRATION in allowed
        else [],
        "document_form": DocumentForm(),
        "reason_form": ReasonForm(),
        # The same field on the reject form as on the return form: its own ids (issue 19).
        "reject_form": ReasonForm(auto_id="id_reject_%s"),
        "note_form": NoteForm(),
        "approve_form": ApproveRegistrationForm(),
        # The plate an approval would issue (registry.plates), said beside the approve form.
        "plate_outlook": plate_outlook(application)
        if Action.APPROVE_REGISTRATION in allowed
        else None,
        "vehicle_form": VehicleCorrectionForm(instance=application.vehicle),
        # Which way the vehicle came: a dealer's origin record, or the owner's own entry
        # (flagged to the LTO when its numbers match an origin record).
        "origin": origins.origin_of(application.vehicle),
        "origin_flag": OriginFlag.objects.filter(vehicle_id=application.vehicle_id)
        .select_related("origin__dealer", "cleared_by")
        .first(),
        "flag_form": FlagClearForm(),
        # A transfer's sale: its seller and notice of sale, shown to the buyer and the LTO.
        "sale": getattr(application, "sale", None),
        "checklist": checklist,
        "missing_documents": [item.label for item in missing_documents(checklist)],
        # LTO staff see each active hold (reference, office, reason); everyone else only that
        # a hold exists and whom to contact.
        "hold_notice": hold_notice(application.vehicle.vin),
        "holds": list(active_holds(application.vehicle.vin)) if caller.is_lto_staff else [],
    }


@login_required
def application_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    application = application_get_for_user(user=request.user, pk=pk)
    return render(
        request, "registry/application_detail.html", application_context(request, application)
    )


@login_required
def application_live(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """HTMX fragment: the status, clearance panels and history, refreshed on live events."""
    application = application_get_for_user(user=request.user, pk=pk)
    return render(
        request, "registry/_application_live.html", application_context(request, application)
    )


def act_on_application(
    request: HttpRequest,
    pk: int,
    action: Callable[[RegistrationApplication], object],
    success: str | StrPromise,
) -> HttpResponse:
    """Run one service for an application the user can see; show its refusal with its status."""
    application = application_get_for_user(user=request.user, pk=pk)
    try:
        action(application)
    except USER_ERRORS as exc:
        info = describe(exc)
        application.refresh_from_db()
        context = application_context(request, application)
        context["error"] = info
        return render(request, "registry/application_detail.html", context, status=info.status)
    messages.success(request, success)
    return redirect("application-detail", pk)


def _form_or_error(form_class: type[forms.BaseForm], request: HttpRequest) -> dict[str, Any]:
    form = form_class(request.POST)
    if not form.is_valid():
        raise ValidationError(
            {field: errors for field, errors in form.errors.items()}
            or _("The form was not filled in correctly.")
        )
    return form.cleaned_data


ApplicationAction = Callable[
    [AuthenticatedHttpRequest, RegistrationApplication, dict[str, Any]], object
]


def application_action(
    success: str | StrPromise, form_class: type[forms.BaseForm] | None = None
) -> Callable[[ApplicationAction], Callable[..., HttpResponse]]:
    """Make a POST view of a function that runs one service on an application.

    The function gets the request, the application (read through the user's funnel: 404 for
    anyone else's) and the validated form data with the URL's other arguments; a refusal is
    shown on the application's page with its status.
    """

    def decorate(run: ApplicationAction) -> Callable[..., HttpResponse]:
        @login_required
        @form_action("application-detail", "pk")
        @wraps(run)
        def view(request: AuthenticatedHttpRequest, pk: int, **kwargs: Any) -> HttpResponse:
            def call(application: RegistrationApplication) -> object:
                data = _form_or_error(form_class, request) if form_class else {}
                return run(request, application, {**data, **kwargs})

            return act_on_application(request, pk, call, success)

        return view

    return decorate


@application_action(_("Application submitted to the LTO."))
def application_submit(
    request: AuthenticatedHttpRequest, application: RegistrationApplication, _: dict[str, Any]
) -> object:
    return services.application_submit(application_id=application.pk, actor=request.user)


@application_action(_("Application resubmitted with your corrections."), NoteForm)
def application_resubmit(
    request: AuthenticatedHttpRequest, application: RegistrationApplication, data: dict[str, Any]
) -> object:
    return services.application_resubmit(
        application_id=application.pk, actor=request.user, note=data["note"]
    )


@login_required
@require_http_methods(["GET", "POST"])
def application_cancel(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Ask, then withdraw: the withdrawal goes on the ledger and has no undo, so the owner
    confirms it on this page (a ticked box, checked here) before anything is recorded."""
    application = application_get_for_user(user=request.user, pk=pk)
    if Action.WITHDRAW not in access.allowed_actions(Caller.of(request), application):
        messages.error(
            request,
            str(
                Message(
                    _("%(reference)s can no longer be withdrawn."),
                    {"reference": application.reference},
                )
            ),
        )
        return redirect("application-detail", pk)
    form = WithdrawForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            try:
                services.application_cancel(
                    application_id=application.pk,
                    actor=request.user,
                    reason=form.cleaned_data["reason"],
                )
            except USER_ERRORS as exc:
                status = add_form_errors(form, exc)
            else:
                messages.success(
                    request,
                    str(
                        Message(
                            _("Application %(reference)s withdrawn."),
                            {"reference": application.reference},
                        )
                    ),
                )
                return redirect("application-detail", pk)
    return render(
        request,
        "registry/application_withdraw.html",
        {"application": application, "form": form},
        status=status,
    )


@application_action(_("You are reviewing this application."))
def application_review(
    request: AuthenticatedHttpRequest, application: RegistrationApplication, _: dict[str, Any]
) -> object:
    return services.application_start_review(application_id=application.pk, actor=request.user)


@application_action(_("Application returned to the owner."), ReasonForm)
def application_return(
    request: AuthenticatedHttpRequest, application: RegistrationApplication, data: dict[str, Any]
) -> object:
    return services.application_return(
        application_id=application.pk, actor=request.user, reason=data["reason"]
    )


@application_action(_("Registration approved and recorded on the ledger."), ApproveRegistrationForm)
def registration_approve(
    request: AuthenticatedHttpRequest, application: RegistrationApplication, data: dict[str, Any]
) -> object:
    return services.registration_approve(
        application_id=application.pk, actor=request.user, plate_number=data["plate_number"]
    )


@application_action(_("Registration rejected."), ReasonForm)
def registration_reject(
    request: AuthenticatedHttpRequest, application: RegistrationApplication, data: dict[str, Any]
) -> object:
    return services.registration_reject(
        application_id=application.pk, actor=request.user, reason=data["reason"]
    )


@login_required
@form_action("application-detail", "pk")
def vehicle_correct(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    def correct(application: RegistrationApplication) -> object:
        # Bound to the vehicle: what a dealer's origin record declared is not taken from input.
        form = VehicleCorrectionForm(request.POST, instance=application.vehicle)
        if not form.is_valid():
            raise ValidationError(dict(form.errors.items()))
        return services.vehicle_correct(
            application_id=application.pk, actor=request.user, **form.cleaned_data
        )

    return act_on_application(request, pk, correct, _("Vehicle details corrected."))


@application_action(_("The flag is cleared; the registration can be decided."), FlagClearForm)
def origin_flag_clear(
    request: AuthenticatedHttpRequest, application: RegistrationApplication, data: dict[str, Any]
) -> object:
    return origins.origin_flag_clear(
        actor=request.user, application_id=application.pk, note=data["note"]
    )


@login_required
@form_action("application-detail", "pk")
def document_add(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    form = DocumentForm(request.POST, request.FILES)

    def upload(application: RegistrationApplication) -> object:
        if not form.is_valid():
            raise ValidationError(dict(form.errors.items()))
        return document_upload(
            application_id=application.pk,
            uploader=request.user,
            doc_type=form.cleaned_data["doc_type"],
            upload=form.cleaned_data["file"],
            clearance_request_id=form.cleaned_data.get("clearance_request"),
        )

    return act_on_application(request, pk, upload, "Document added.")


LTO_PAGE_SIZE = 25


@login_required
def lto_queue(request: AuthenticatedHttpRequest) -> HttpResponse:
    """LTO staff: every application, searchable and filterable, newest first."""
    if not is_lto_staff(request.user):
        return redirect("home")
    form = ApplicationSearchForm(request.GET or None)
    applications = (
        applications_for_user(request.user)
        .select_related("vehicle__origin_flag")
        .order_by("-created_at", "-id")
    )
    applications = applications.annotate(
        has_overdue=participants.overdue(timezone.now()),
        on_hold=Exists(
            Hold.objects.filter(vin=OuterRef("vehicle__vin"), status=Hold.Status.ACTIVE)
        ),
    )
    if form.is_valid():
        data = form.cleaned_data
        if data["status"]:
            applications = applications.filter(status=data["status"])
        if data["type"]:
            applications = applications.filter(type=data["type"])
        if data["overdue"]:
            applications = applications.filter(has_overdue=True)
        if data["flagged"]:
            applications = applications.filter(
                vehicle__origin_flag__isnull=False, vehicle__origin_flag__cleared_at__isnull=True
            )
        applications = search_applications(applications, data["q"])
    page = LeanPaginator(applications, LTO_PAGE_SIZE).get_page(request.GET.get("page"))
    template = "registry/_lto_rows.html" if request.htmx else "registry/lto_queue.html"
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, template, {"page": page, "form": form, "query": query.urlencode()})


def _document_for_user(request: HttpRequest, pk: int, document_pk: int) -> Document:
    application = application_get_for_user(user=request.user, pk=pk)
    return get_object_or_404(
        application.documents.select_related("application", "uploaded_by", "clearance_request"),
        pk=document_pk,
    )


@login_required
def document_detail(request: AuthenticatedHttpRequest, pk: int, document_pk: int) -> HttpResponse:
    """The document's facts, its integrity checked now against the ledger, and a viewer."""
    document = _document_for_user(request, pk, document_pk)
    checked = document_check(document)
    return render(
        request,
        "registry/document_detail.html",
        {"document": document, "application": document.application, "check": checked.check},
        status=200 if checked.check.ok else 409,
    )


@login_required
@xframe_options_sameorigin
def document_download(request: AuthenticatedHttpRequest, pk: int, document_pk: int) -> HttpResponse:
    """Serve a document only after its digest is recomputed and matches the ledger's anchor."""
    document = _document_for_user(request, pk, document_pk)
    checked = document_check(document)
    if checked.content is None:
        error = describe(
            ValidationError(
                _("This document failed its integrity check and is withheld: %(detail)s"),
                params={"detail": checked.check.detail},
            )
        )
        return render(request, "error.html", {"error": error}, status=409)
    disposition = "attachment" if request.GET.get("download") else "inline"
    response = HttpResponse(checked.content, content_type=document.media_type)
    header = content_disposition_header(disposition == "attachment", document.original_name)
    assert header is not None  # only for an empty name, which check_file_name refuses
    response["Content-Disposition"] = header
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
