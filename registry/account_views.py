"""Owner sign-up and e-mail verification pages."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _

from registry.accounts import owner_sign_up, owner_verify_email
from registry.forms import OwnerSignUpForm


def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("home")
    form = OwnerSignUpForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            owner_sign_up(
                username=data["username"],
                first_name=data["first_name"],
                last_name=data["last_name"],
                email=data["email"],
                password=data["password1"],
                mobile_number=data.get("mobile_number", ""),
                site_url=request.build_absolute_uri("/").rstrip("/"),
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
            status = 422
        else:
            return render(request, "registration/signup_sent.html", {"email": data["email"]})
    elif request.method == "POST":
        status = 422
    return render(request, "registration/signup.html", {"form": form}, status=status)


def verify_email(request: HttpRequest, uidb64: str, token: str) -> HttpResponse:
    try:
        owner_verify_email(uidb64=uidb64, token=token)
    except ValidationError as exc:
        return render(
            request, "registration/verify_failed.html", {"message": exc.messages[0]}, status=400
        )
    messages.success(request, _("Your e-mail address is confirmed. You can sign in now."))
    return redirect("login")
