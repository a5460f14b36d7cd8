"""Browser pages for external organisations: the queue, the decision page, the organisation's
page; and the clearance actions and panels of an application.

Every request is fetched through ``clearance_request_get_for_user``: an officer of one
organisation gets 404 for another organisation's request, on pages and fragments alike.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from chaincode.rules import CLEARANCE_DECISIONS, CLEARANCE_OPEN, ClearanceStatus
from clearance import access, kinds, repairs, services
from clearance.forms import DecisionForm, EvidenceForm, RemarksReentryForm
from clearance.models import ClearanceRequest, ClearanceStatusChange
from clearance.selectors import clearance_request_get_for_user, clearance_requests_for_user
from kernel.auth import AuthenticatedHttpRequest
from kernel.errors import USER_ERRORS, Conflict, UserError, describe
from kernel.forms_http import form_action
from kernel.i18n import Message
from kernel.paging import LeanPaginator
from kernel.refusals import STATUSES
from ledger.receipts import receipt_checks
from organisations import access as organisation_access
from organisations.access import Action, Caller
from organisations.forms import InviteOfficerForm
from organisations.models import Membership
from organisations.selectors import memberships_of
from organisations.services import membership_invite
from registry.certificate import registration_change
from registry.document_services import document_checklist, document_upload
from registry.forms import ReasonForm
from registry.lookup import public_record
from registry.models import RegistrationApplication
from registry.views import add_form_errors, application_action


@login_required
def queue(request: AuthenticatedHttpRequest) -> HttpResponse:
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
    page = LeanPaginator(requests, 25).get_page(request.GET.get("page"))
    template = "clearance/_queue_rows.html" if request.htmx else "clearance/queue.html"
    return render(
        request,
        template,
        {"page": page, "memberships": memberships, "show": show, "now": now},
    )


def _decision_form(
    clearance: ClearanceRequest,
    data: Mapping[str, Any] | None = None,
    draft: Mapping[str, Any] | None = None,
) -> DecisionForm:
    kind = kinds.kind(clearance.kind)
    return kind.form(data, initial={**kind.initial(clearance), **(draft or {})})


def _evidence_form(clearance: ClearanceRequest, request: HttpRequest | None = None) -> EvidenceForm:
    usual = kinds.kind(clearance.kind).evidence
    if request is None:
        return EvidenceForm(usual=usual)
    return EvidenceForm(request.POST, request.FILES, usual=usual)


# The decision an officer was filling in when they uploaded evidence on its own, kept in
# their session until they record a decision, so that the upload loses none of it.
def _draft_key(clearance: ClearanceRequest) -> str:
    return f"clearance-decision-draft-{clearance.pk}"


def _draft_from(clearance: ClearanceRequest, data: Mapping[str, Any]) -> dict[str, Any]:
    """The decision form's values as posted, each read the way its widget reads it (an
    unticked box is False), fit to be the form's initial values again."""
    form = _decision_form(clearance)
    draft: dict[str, Any] = {}
    for name, field in form.fields.items():
        value = field.widget.value_from_datadict(data, {}, form.add_prefix(name))
        if value not in (None, ""):
            draft[name] = value
    return draft


def _context(
    request: HttpRequest,
    clearance: ClearanceRequest,
    form: DecisionForm | None = None,
    evidence_form: EvidenceForm | None = None,
) -> dict[str, Any]:
    changes = list(clearance.status_changes.select_related("organisation", "actor"))
    allowed = access.allowed_actions(Caller.of(request), clearance)
    kind = kinds.kind(clearance.kind)
    draft = request.session.get(_draft_key(clearance))
    return {
        "clearance": clearance,
        "kind": kind,
        "application": clearance.application,
        "changes": changes,
        "checks": receipt_checks(changes),
        "documents": clearance.application.documents.select_related(
            "uploaded_by", "clearance_request"
        ),
        # The same list of required papers the owner and the LTO see.
        "checklist": document_checklist(clearance.application),
        "form": form or _decision_form(clearance, draft=draft),
        "draft_kept": form is None and bool(draft),
        "evidence_form": evidence_form or _evidence_form(clearance),
        # Buttons are drawn from the one answer the services enforce.
        "can": {action.value: True for action in allowed},
        # What the kind's fragment shows beside its fields.
        **kind.context(clearance),
        "now": timezone.now(),
    }


@login_required
def clearance_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    clearance = clearance_request_get_for_user(user=request.user, pk=pk)
    return render(request, "clearance/detail.html", _context(request, clearance))


@login_required
@form_action("clearance-detail", "pk")
def clearance_claim(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    clearance = clearance_request_get_for_user(user=request.user, pk=pk)
    try:
        services.clearance_claim(request_id=clearance.pk, officer=request.user)
    except USER_ERRORS as exc:
        return _refused(request, clearance, exc)
    messages.success(request, _("You are reviewing this request."))
    return redirect("clearance-detail", pk)


def _upload_evidence(
    request: AuthenticatedHttpRequest, clearance: ClearanceRequest, evidence: EvidenceForm
) -> None:
    document_upload(
        application_id=clearance.application_id,
        uploader=request.user,
        doc_type=evidence.cleaned_data["doc_type"],
        upload=evidence.cleaned_data["file"],
        clearance_request_id=clearance.pk,
    )


@login_required
@form_action("clearance-detail", "pk")
def clearance_evidence(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Evidence on its own: from the decision form (its "Upload evidence" button posts the
    half-filled decision here too, kept as a draft) or after the request is decided."""
    clearance = clearance_request_get_for_user(user=request.user, pk=pk)
    if "decision" in request.POST or "remarks" in request.POST:
        request.session[_draft_key(clearance)] = _draft_from(clearance, request.POST)
    evidence = _evidence_form(clearance, request)
    try:
        if Action.UPLOAD_DOCUMENT not in access.allowed_actions(Caller.of(request), clearance):
            access.require(Caller.of(request), clearance, Action.UPLOAD_DOCUMENT)  # 403
            raise Conflict(_("A cancelled request takes no more evidence."))
        if not evidence.is_valid():
            raise ValidationError(dict(evidence.errors.items()))
        _upload_evidence(request, clearance, evidence)
    except USER_ERRORS as exc:
        add_form_errors(evidence, exc)
        clearance.refresh_from_db()
        context = _context(request, clearance, evidence_form=evidence)
        if not hasattr(exc, "error_dict"):
            # Said at the top as well: the evidence form may not be on the page any more.
            context["error"] = describe(exc)
        return render(request, "clearance/detail.html", context, status=describe(exc).status)
    if request.session.get(_draft_key(clearance)):
        messages.success(
            request, _("Evidence added. Your decision is not recorded yet: your draft is kept.")
        )
    else:
        messages.success(request, _("Evidence added."))
    return redirect("clearance-detail", pk)


@login_required
@form_action("clearance-detail", "pk")
def clearance_decide(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Record the decision; evidence attached to the same form is filed first, so that a
    refused decision does not lose the file."""
    clearance = clearance_request_get_for_user(user=request.user, pk=pk)
    form = _decision_form(clearance, request.POST)
    evidence = _evidence_form(clearance, request)
    # Kept until a decision is recorded: a reload of a refused one shows what was typed.
    request.session[_draft_key(clearance)] = _draft_from(clearance, request.POST)
    if evidence.has_file() or evidence.data.get(evidence.add_prefix("doc_type")):
        if not evidence.is_valid():
            form.is_valid()  # its errors are shown too, so that one round trip shows all
            return render(
                request,
                "clearance/detail.html",
                _context(request, clearance, form, evidence),
                status=422,
            )
        try:
            _upload_evidence(request, clearance, evidence)
        except USER_ERRORS as exc:
            status = add_form_errors(evidence, exc)
            form.is_valid()
            context = _context(request, clearance, form, evidence)
            return render(request, "clearance/detail.html", context, status=status)
        messages.success(request, _("Evidence added."))
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
    request.session.pop(_draft_key(clearance), None)
    messages.success(
        request,
        str(
            Message(
                _("Decision recorded: %(decision)s."),
                {
                    "decision": STATUSES.get(
                        form.cleaned_data["decision"], form.cleaned_data["decision"]
                    )
                },
            )
        ),
    )
    return redirect("clearance-detail", pk)


def _refused(
    request: HttpRequest,
    clearance: ClearanceRequest,
    exc: UserError,
    form: DecisionForm | None = None,
) -> HttpResponse:
    info = describe(exc)
    clearance.refresh_from_db()
    context = _context(request, clearance, form)
    context["error"] = info
    return render(request, "clearance/detail.html", context, status=info.status)


@login_required
def organisation(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Org admins: their officers (invite, deactivate) and the organisation's overdue items."""
    caller = Caller.of(request)
    org = next(
        (m.organisation for m in caller.memberships if m.role == Membership.Role.ADMIN), None
    )
    if org is None or Action.MANAGE_OFFICERS not in organisation_access.allowed_actions(
        caller, org
    ):
        raise Http404(_("You do not administer an organisation."))
    form = InviteOfficerForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            membership_invite(
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
            messages.success(request, _("Officer invited; they will receive an e-mail."))
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
            "lto_staff": caller.is_lto_staff,
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


@application_action(_("Clearance requests sent."))
def application_send(
    request: AuthenticatedHttpRequest, application: RegistrationApplication, _: dict[str, Any]
) -> object:
    return services.clearance_send_for_clearance(application_id=application.pk, actor=request.user)


@application_action(_("Clearance request cancelled."), ReasonForm)
def application_clearance_cancel(
    request: AuthenticatedHttpRequest, application: RegistrationApplication, data: dict[str, Any]
) -> object:
    clearance = get_object_or_404(application.clearance_requests, pk=data["request_pk"])
    return services.clearance_cancel(
        request_id=clearance.pk, actor=request.user, reason=data["reason"]
    )


@require_GET
def verify_search(request: HttpRequest) -> HttpResponse:
    """Public: a box for a reference, a CR number or a plate; the answer in plain words."""
    query = request.GET.get("q", "").strip()[:40]
    if not query:
        return render(request, "registry/verify.html", {"query": ""})
    return _verify_answer(request, query)


@require_GET
def verify(request: HttpRequest, reference: str) -> HttpResponse:
    """Public: what the certificate's QR code opens (an application's reference)."""
    return _verify_answer(request, reference[:40])


def _verify_answer(request: HttpRequest, query: str) -> HttpResponse:
    """What the records say about ``query`` and what checking their ledger receipts found,
    without personal data."""
    record = public_record(query)
    if record is None:
        return render(
            request, "registry/verify.html", {"query": query, "not_found": True}, status=404
        )
    changes: list[Any] = []
    clearances: list[ClearanceStatusChange] = []
    registration = None
    application = record.application or (
        record.certificate.application if record.certificate else None
    )
    if application is not None:
        registration = registration_change(application)
        latest: dict[str, ClearanceStatusChange] = {}
        for change in (
            ClearanceStatusChange.objects.filter(request__application=application)
            .select_related("request")
            .order_by("request__kind", "created_at")
        ):
            latest[change.request.kind] = change
        clearances = list(latest.values())
        changes = [*clearances, *([registration] if registration else [])]
    checks = receipt_checks(changes)
    return render(
        request,
        "registry/verify.html",
        {
            "query": query,
            "record": record,
            "application": application,
            "registration": registration,
            "clearances": clearances,
            "checks": checks,
            "ledger_ok": bool(changes) and all(check.ok for check in checks.values()),
            "ledger_awaiting": any(check.awaiting_inclusion for check in checks.values()),
        },
    )


@login_required
def change_reenter(request: AuthenticatedHttpRequest, change_id: str) -> HttpResponse:
    """The organisation enters again the remarks (and a decision's findings) of a change
    restored from the ledger."""
    row = get_object_or_404(
        ClearanceStatusChange.objects.select_related("request__application__vehicle"),
        change_id=change_id,
    )
    if not Caller(request.user).acts_for(row.organisation_id):
        raise Http404(_("No such change."))
    clearance = row.request
    kind = kinds.kind(clearance.kind)
    is_decision = row.to_status in CLEARANCE_DECISIONS
    awaiting = repairs.awaits_reentry(row)
    data = None
    if request.method == "POST" and awaiting:
        # The decision is the ledger's; only its remarks and findings are entered.
        data = request.POST.copy()
        data["decision"] = row.to_status
    form: DecisionForm | RemarksReentryForm = (
        kind.form(data, initial=kind.initial(clearance))
        if is_decision
        else RemarksReentryForm(data)
    )
    if data is not None and form.is_valid():
        findings = form.decision_findings() if isinstance(form, DecisionForm) else None
        try:
            repairs.change_reenter(
                change_id=change_id,
                officer=request.user,
                remarks=form.cleaned_data["remarks"],
                findings=findings,
            )
        except ValidationError as exc:
            errors = exc.message_dict if hasattr(exc, "error_dict") else {None: exc.messages}
            for field, messages_ in errors.items():
                form.add_error(field if field in form.fields else None, messages_)
        else:
            messages.success(request, _("Remarks and findings restored."))
            return redirect("clearance-detail", clearance.pk)
    return render(
        request,
        "clearance/change_reenter.html",
        {
            "change": row,
            "clearance": clearance,
            "form": form,
            "kind": kind,
            "is_decision": is_decision,
            "awaiting": awaiting,
            **kind.context(clearance),
        },
        status=422 if form.errors else 409 if request.method == "POST" and not awaiting else 200,
    )
