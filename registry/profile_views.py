"""The profile page: a person's name, mobile number and e-mail address."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kernel.auth import AuthenticatedHttpRequest
from registry import profile as profiles
from registry.profile_forms import EmailChangeForm, ProfileForm


def _page(
    request: AuthenticatedHttpRequest,
    *,
    form: ProfileForm | None = None,
    email_form: EmailChangeForm | None = None,
    status: int = 200,
) -> HttpResponse:
    user = request.user
    initial = {
        "first_name": user.first_name,
        "last_name": user.last_name,
        "mobile_number": profiles.mobile_number_of(user),
    }
    return render(
        request,
        "registry/profile.html",
        {
            "form": form or ProfileForm(initial=initial),
            # Its own ids: both forms are on one page.
            "email_form": email_form or EmailChangeForm(user=user, auto_id="id_email_%s"),
        },
        status=status,
    )


def _add_errors(form: ProfileForm | EmailChangeForm, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


@login_required
def profile(request: AuthenticatedHttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _page(request)
    form = ProfileForm(request.POST)
    if form.is_valid():
        try:
            profiles.profile_update(user=request.user, **form.cleaned_data)
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("Your profile is saved."))
            return redirect("profile")
    return _page(request, form=form, status=422)


@login_required
@require_POST
def profile_email(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = EmailChangeForm(request.POST, user=request.user, auto_id="id_email_%s")
    if form.is_valid():
        new_email = form.cleaned_data["new_email"]
        try:
            profiles.email_change_request(
                user=request.user,
                new_email=new_email,
                site_url=request.build_absolute_uri("/").rstrip("/"),
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(
                request,
                _(
                    "We sent a link to %(email)s. Your address changes when you open it; "
                    "until then we keep writing to %(current)s."
                )
                % {"email": new_email, "current": request.user.email},
            )
            return redirect("profile")
    return _page(request, email_form=form, status=422)


def profile_email_confirm(request: HttpRequest, token: str) -> HttpResponse:
    """The link from the e-mail: works signed in or not (it may open on another device)."""
    try:
        user = profiles.email_change_confirm(token=token)
    except ValidationError as exc:
        return render(
            request, "registration/verify_failed.html", {"message": exc.messages[0]}, status=400
        )
    messages.success(request, _("Your e-mail address is now %(email)s.") % {"email": user.email})
    return redirect("profile" if request.user.is_authenticated else "login")
