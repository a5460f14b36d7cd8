"""Browser pages of organisation admins and LTO staff: officers' access and API keys."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kernel.auth import AuthenticatedHttpRequest
from kernel.errors import USER_ERRORS, PermissionDenied, describe
from kernel.i18n import Message
from organisations import access
from organisations.access import Action, Caller
from organisations.forms import ApiKeyForm, DeactivateOfficerForm
from organisations.models import ApiKey, Membership, Organisation
from organisations.selectors import memberships_of
from organisations.services import (
    api_key_create,
    api_key_revoke,
    membership_deactivate,
    membership_invitation_resend,
    membership_reactivate,
)


def _membership_for_admin(request: AuthenticatedHttpRequest, pk: int) -> Membership:
    # Fetched among the admin's own organisations only, so other memberships are 404; the
    # services check the admin's right to manage the officers again.
    admin_orgs = memberships_of(request.user).filter(role=Membership.Role.ADMIN)
    return get_object_or_404(
        Membership.objects.select_related("user", "organisation"),
        pk=pk,
        organisation_id__in=admin_orgs.values("organisation_id"),
    )


@login_required
@require_http_methods(["GET", "POST"])
def membership_deactivate_view(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Ask, then deactivate: the officer loses access at once (they can be reactivated)."""
    membership = _membership_for_admin(request, pk)
    if not membership.is_active:
        messages.info(
            request, str(Message(_("%(user)s is already deactivated."), {"user": membership.user}))
        )
        return redirect("organisation")
    form = DeactivateOfficerForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            try:
                membership_deactivate(membership_id=membership.pk, admin=request.user)
            except USER_ERRORS as exc:
                info = describe(exc)
                form.add_error(None, info.message)
                status = info.status
            else:
                messages.success(
                    request,
                    str(
                        Message(
                            _("%(user)s can no longer act for the organisation."),
                            {"user": membership.user},
                        )
                    ),
                )
                return redirect("organisation")
    return render(
        request,
        "organisations/membership_deactivate.html",
        {"membership": membership, "form": form},
        status=status,
    )


@login_required
@require_POST
def membership_reactivate_view(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    membership = _membership_for_admin(request, pk)
    try:
        membership_reactivate(membership_id=membership.pk, admin=request.user)
    except USER_ERRORS as exc:
        messages.error(request, describe(exc).message)
    else:
        messages.success(
            request,
            str(
                Message(
                    _("%(user)s can act for the organisation again."), {"user": membership.user}
                )
            ),
        )
    return redirect("organisation")


@login_required
@require_POST
def membership_resend_view(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    membership = _membership_for_admin(request, pk)
    try:
        membership_invitation_resend(
            membership_id=membership.pk,
            admin=request.user,
            site_url=request.build_absolute_uri("/").rstrip("/"),
        )
    except USER_ERRORS as exc:
        messages.error(request, describe(exc).message)
    else:
        messages.success(
            request,
            str(
                Message(
                    _("A new invitation was sent to %(email)s."), {"email": membership.user.email}
                )
            ),
        )
    return redirect("organisation")


# API keys. One funnel decides who may manage an organisation's keys: LTO staff for any
# organisation, an organisation's admins for their own. Officers of the organisation are told
# no (403); anyone else learns nothing of it (404).


def _organisation_for_key_manager(request: HttpRequest, organisation_id: int) -> Organisation:
    caller = Caller.of(request)
    organisation = Organisation.objects.filter(pk=organisation_id, is_active=True).first()
    if organisation is None or not (caller.is_lto_staff or caller.acts_for(organisation.pk)):
        raise Http404(_("No such organisation."))
    access.require(caller, organisation, Action.MANAGE_API_KEYS)
    return organisation


@login_required
@require_GET
def api_key_index(request: AuthenticatedHttpRequest) -> HttpResponse:
    """LTO staff pick an organisation; an organisation's admin goes straight to its keys."""
    caller = Caller.of(request)
    if caller.is_lto_staff:
        organisations = Organisation.objects.filter(is_active=True).order_by("kind", "name")
        return render(request, "organisations/api_key_index.html", {"organisations": organisations})
    membership = next((m for m in caller.memberships if m.role == Membership.Role.ADMIN), None)
    if membership is None:
        if caller.memberships:
            raise PermissionDenied(_("Only organisation admins or LTO staff can manage API keys."))
        raise Http404(_("You do not administer an organisation."))
    return redirect("api-keys", membership.organisation_id)


@never_cache  # the page that shows a new key's secret must not be kept by any cache
@login_required
@require_http_methods(["GET", "POST"])
def api_keys(request: AuthenticatedHttpRequest, organisation_id: int) -> HttpResponse:
    """The organisation's keys, and issuing one; the secret is shown once, in this answer."""
    org = _organisation_for_key_manager(request, organisation_id)
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
    return render(request, "organisations/api_keys.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def api_key_revoke_view(
    request: AuthenticatedHttpRequest, organisation_id: int, pk: int
) -> HttpResponse:
    """Ask, then revoke: the key stops working at once."""
    org = _organisation_for_key_manager(request, organisation_id)
    key = get_object_or_404(ApiKey, pk=pk, organisation=org)
    if request.method == "GET":
        return render(
            request, "organisations/api_key_revoke.html", {"organisation": org, "key": key}
        )
    if key.revoked_at is not None:
        messages.info(request, str(Message(_("%(key)s was already revoked."), {"key": key})))
    else:
        api_key_revoke(key_id=key.pk, admin=request.user)
        messages.success(
            request,
            str(
                Message(
                    _("%(key)s is revoked; requests made with it are now refused."), {"key": key}
                )
            ),
        )
    return redirect("api-keys", org.pk)
