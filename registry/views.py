"""Browser pages for owners and LTO staff: each parses input, calls one service, renders.

Every object is fetched through the access funnels in the selectors, so a user who may not see
an application gets 404 from every page and fragment that names it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Exists, OuterRef, Prefetch, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_POST

from chaincode.rules import CLEARANCE_OPEN, ApplicationStatus
from clearance import services as clearance_services
from clearance.models import ClearanceRequest, ClearanceStatusChange
from clearance.selectors import (
    clearance_requests_for_user,
    is_lto_staff,
    memberships_of,
    required_kinds,
)
from ledger.receipts import receipt_checks
from registry import services
from registry.documents import document_check, document_upload
from registry.forms import (
    ApplicationForm,
    ApplicationSearchForm,
    ApproveRegistrationForm,
    DocumentForm,
    NoteForm,
    ReasonForm,
    VehicleCorrectionForm,
    VehicleForm,
)
from registry.models import Document, RegistrationApplication
from registry.selectors import application_get_for_user, applications_for_user, vehicles_of
from talaan.errors import USER_ERRORS, describe


def _role(user: Any) -> str:
    if is_lto_staff(user):
        return "lto"
    membership = memberships_of(user).first()
    if membership is not None:
        return "org_admin" if membership.role == "admin" else "officer"
    return "owner"


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Each role's starting page."""
    role = _role(request.user)
    if role == "lto":
        return redirect("lto-queue")
    if role in {"officer", "org_admin"}:
        return redirect("clearance-queue")
    applications = applications_for_user(request.user).prefetch_related(
        Prefetch(
            "clearance_requests__status_changes",
            queryset=ClearanceStatusChange.objects.order_by("created_at", "id"),
            to_attr="changes",
        )
    )
    page = Paginator(applications, 20).get_page(request.GET.get("page"))
    latest = [r.changes[-1] for a in page for r in a.clearance_requests.all() if r.changes]
    return render(
        request,
        "registry/home.html",
        {
            "page": page,
            "vehicles": vehicles_of(request.user)[:20],
            "checks": receipt_checks(latest),
        },
    )


@login_required
def vehicle_new(request: HttpRequest) -> HttpResponse:
    form = VehicleForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            vehicle = services.vehicle_register(owner=request.user, **form.cleaned_data)
        except ValidationError as exc:
            _add_errors(form, exc)
            status = 422
        else:
            messages.success(request, f"{vehicle} is registered to you.")
            return redirect("home")
    elif request.method == "POST":
        status = 422
    return render(request, "registry/vehicle_form.html", {"form": form}, status=status)


@login_required
def application_new(request: HttpRequest) -> HttpResponse:
    form = ApplicationForm(request.POST or None, owner=request.user)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            application = services.application_create(
                applicant=request.user,
                vehicle_id=form.cleaned_data["vehicle"].pk,
                type=form.cleaned_data["type"],
            )
        except USER_ERRORS as exc:
            _add_errors(form, exc)
            status = describe(exc).status
        else:
            messages.success(
                request,
                f"Application {application.reference} created. Add your documents, then submit it.",
            )
            return redirect("application-detail", application.pk)
    elif request.method == "POST":
        status = 422
    return render(request, "registry/application_form.html", {"form": form}, status=status)


def _add_errors(form: Any, exc: Exception) -> None:
    if isinstance(exc, ValidationError) and hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, describe(exc).message)


def application_context(request: HttpRequest, application: RegistrationApplication) -> dict:
    """Everything the application page and its fragments show, for this user."""
    user = request.user
    lto = is_lto_staff(user)
    is_owner = application.applicant_id == user.pk
    requests = (
        ClearanceRequest.objects.filter(application=application)
        .select_related("organisation", "assigned_to")
        .prefetch_related(
            Prefetch(
                "status_changes",
                queryset=ClearanceStatusChange.objects.select_related("organisation").order_by(
                    "created_at", "id"
                ),
                to_attr="changes",
            )
        )
        .order_by("kind", "created_at")
    )
    if not lto and not is_owner:
        # Officers see only their own organisation's panel.
        requests = requests.filter(
            organisation_id__in=memberships_of(user).values("organisation_id")
        )
    requests = list(requests)
    history = list(application.status_changes.select_related("actor"))
    changes = [c for r in requests for c in r.changes] + history
    live_kinds = {r.kind for r in requests if r.status != "cancelled"}
    status = application.status
    return {
        "application": application,
        "clearances": requests,
        "history": history,
        "checks": receipt_checks(changes),
        "documents": application.documents.select_related("uploaded_by", "clearance_request"),
        "is_owner": is_owner,
        "is_lto": lto,
        "now": timezone.now(),
        "missing_kinds": [k for k in required_kinds(application.type) if k not in live_kinds],
        "can": {
            "submit": is_owner and status == ApplicationStatus.DRAFT,
            "resubmit": is_owner and status == ApplicationStatus.RETURNED,
            "cancel": is_owner
            and status
            in {ApplicationStatus.DRAFT, ApplicationStatus.SUBMITTED, ApplicationStatus.RETURNED},
            "upload": (is_owner and status not in _FINISHED) or lto,
            "certificate": status == ApplicationStatus.APPROVED and (is_owner or lto),
            "review": lto and status == ApplicationStatus.SUBMITTED,
            "send": lto
            and status in {ApplicationStatus.UNDER_REVIEW, ApplicationStatus.AWAITING_CLEARANCES},
            "return": lto and status == ApplicationStatus.UNDER_REVIEW,
            "approve": lto and status == ApplicationStatus.CLEARED,
            "reject": lto
            and status
            in {
                ApplicationStatus.UNDER_REVIEW,
                ApplicationStatus.AWAITING_CLEARANCES,
                ApplicationStatus.CLEARED,
            },
        },
        "document_form": DocumentForm(),
        "reason_form": ReasonForm(),
        "note_form": NoteForm(),
        "approve_form": ApproveRegistrationForm(),
        "vehicle_form": VehicleCorrectionForm(instance=application.vehicle),
    }


_FINISHED = {ApplicationStatus.APPROVED, ApplicationStatus.REJECTED, ApplicationStatus.CANCELLED}


@login_required
def application_detail(request: HttpRequest, pk: int) -> HttpResponse:
    application = application_get_for_user(user=request.user, pk=pk)
    return render(
        request, "registry/application_detail.html", application_context(request, application)
    )


@login_required
def application_live(request: HttpRequest, pk: int) -> HttpResponse:
    """HTMX fragment: the status, clearance panels and history, refreshed on live events."""
    application = application_get_for_user(user=request.user, pk=pk)
    return render(
        request, "registry/_application_live.html", application_context(request, application)
    )


def _act(
    request: HttpRequest,
    pk: int,
    action: Callable[[RegistrationApplication], object],
    success: str,
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


def _form_or_error(form_class: type, request: HttpRequest) -> Any:
    form = form_class(request.POST)
    if not form.is_valid():
        raise ValidationError(
            {field: errors for field, errors in form.errors.items()}
            or "The form was not filled in correctly."
        )
    return form.cleaned_data


Action = Callable[[HttpRequest, RegistrationApplication, dict], object]


def _action(run: Action, success: str, form_class: type | None = None) -> Callable:
    """A POST endpoint that runs one service on an application the user can see.

    ``run`` gets the request, the application and the validated form data (if any).
    """

    @login_required
    @require_POST
    def view(request: HttpRequest, pk: int, **kwargs: Any) -> HttpResponse:
        def call(application: RegistrationApplication) -> object:
            data = _form_or_error(form_class, request) if form_class else {}
            return run(request, application, {**data, **kwargs})

        return _act(request, pk, call, success)

    return view


application_submit = _action(
    lambda r, a, _: services.application_submit(application_id=a.pk, actor=r.user),
    "Application submitted to the LTO.",
)
application_resubmit = _action(
    lambda r, a, d: services.application_resubmit(
        application_id=a.pk, actor=r.user, note=d["note"]
    ),
    "Application resubmitted with your corrections.",
    NoteForm,
)
application_cancel = _action(
    lambda r, a, _: services.application_cancel(application_id=a.pk, actor=r.user),
    "Application withdrawn.",
)
application_review = _action(
    lambda r, a, _: services.application_start_review(application_id=a.pk, actor=r.user),
    "You are reviewing this application.",
)
application_send = _action(
    lambda r, a, _: clearance_services.clearance_send_for_clearance(
        application_id=a.pk, actor=r.user
    ),
    "Clearance requests sent.",
)
application_return = _action(
    lambda r, a, d: services.application_return(
        application_id=a.pk, actor=r.user, reason=d["reason"]
    ),
    "Application returned to the owner.",
    ReasonForm,
)
registration_approve = _action(
    lambda r, a, d: services.registration_approve(
        application_id=a.pk, actor=r.user, plate_number=d["plate_number"]
    ),
    "Registration approved and recorded on the ledger.",
    ApproveRegistrationForm,
)
registration_reject = _action(
    lambda r, a, d: services.registration_reject(
        application_id=a.pk, actor=r.user, reason=d["reason"]
    ),
    "Registration rejected.",
    ReasonForm,
)
vehicle_correct = _action(
    lambda r, a, d: services.vehicle_correct(application_id=a.pk, actor=r.user, **d),
    "Vehicle details corrected.",
    VehicleCorrectionForm,
)
clearance_cancel = _action(
    lambda r, a, d: clearance_services.clearance_cancel(
        request_id=get_object_or_404(a.clearance_requests, pk=d["request_pk"]).pk,
        actor=r.user,
        reason=d["reason"],
    ),
    "Clearance request cancelled.",
    ReasonForm,
)


@login_required
@require_POST
def document_add(request: HttpRequest, pk: int) -> HttpResponse:
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

    return _act(request, pk, upload, "Document added.")


@login_required
def lto_queue(request: HttpRequest) -> HttpResponse:
    """LTO staff: every application, searchable and filterable, newest first."""
    if not is_lto_staff(request.user):
        return redirect("home")
    form = ApplicationSearchForm(request.GET or None)
    applications = applications_for_user(request.user).order_by("-created_at", "-id")
    now = timezone.now()
    overdue = ClearanceRequest.objects.filter(
        application=OuterRef("pk"), status__in=CLEARANCE_OPEN, due_at__lt=now
    )
    applications = applications.annotate(has_overdue=Exists(overdue))
    if form.is_valid():
        data = form.cleaned_data
        if q := data["q"].strip():
            applications = applications.filter(
                Q(reference__iexact=q)
                | Q(vehicle__vin__iexact=q.replace(" ", ""))
                | Q(vehicle__plate_number__iexact=q)
                | Q(applicant__last_name__iexact=q)
                | Q(applicant__username__iexact=q)
            )
        if data["status"]:
            applications = applications.filter(status=data["status"])
        if data["type"]:
            applications = applications.filter(type=data["type"])
        if data["overdue"]:
            applications = applications.filter(has_overdue=True)
    page = Paginator(applications, 25).get_page(request.GET.get("page"))
    template = "registry/_lto_rows.html" if request.htmx else "registry/lto_queue.html"
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, template, {"page": page, "form": form, "query": query.urlencode()})


@login_required
def clearance_redirect(request: HttpRequest, pk: int) -> HttpResponse:
    """From a notification link to the right page for a clearance request."""
    clearance = get_object_or_404(clearance_requests_for_user(request.user), pk=pk)
    return redirect("application-detail", clearance.application_id)


def _document_for_user(request: HttpRequest, pk: int, document_pk: int) -> Document:
    application = application_get_for_user(user=request.user, pk=pk)
    return get_object_or_404(
        application.documents.select_related("application", "uploaded_by", "clearance_request"),
        pk=document_pk,
    )


@login_required
def document_detail(request: HttpRequest, pk: int, document_pk: int) -> HttpResponse:
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
def document_download(request: HttpRequest, pk: int, document_pk: int) -> HttpResponse:
    """Serve a document only after its digest is recomputed and matches the ledger's anchor."""
    document = _document_for_user(request, pk, document_pk)
    checked = document_check(document)
    if checked.content is None:
        error = describe(
            ValidationError(
                f"This document failed its integrity check and is withheld: {checked.check.detail}"
            )
        )
        return render(request, "error.html", {"error": error}, status=409)
    disposition = "attachment" if request.GET.get("download") else "inline"
    response = HttpResponse(checked.content, content_type=document.media_type)
    response["Content-Disposition"] = content_disposition_header(
        disposition == "attachment", document.original_name
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
