"""Forms of organisation admins: inviting an officer, issuing an API key."""

from __future__ import annotations

from django import forms
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.utils.translation import gettext_lazy as _

from organisations.models import ApiKey, Membership


class InviteOfficerForm(forms.Form):
    username = forms.CharField(
        label=_("Username"), max_length=150, validators=[UnicodeUsernameValidator()]
    )
    first_name = forms.CharField(label=_("First name"), max_length=150)
    last_name = forms.CharField(label=_("Last name"), max_length=150)
    email = forms.EmailField(label=_("Email"))
    role = forms.ChoiceField(
        label=_("Role"), choices=Membership.Role.choices, initial=Membership.Role.OFFICER
    )


class DeactivateOfficerForm(forms.Form):
    confirm = forms.BooleanField(
        label=_("Yes, deactivate this officer."),
        error_messages={"required": "Tick the box to confirm the deactivation."},
    )


class ApiKeyForm(forms.Form):
    """Issue an API key: a name people recognise, its scopes and an optional expiry."""

    name = forms.CharField(
        label=_("Name"),
        max_length=80,
        help_text=_("Name it after the system that will use it, e.g. claims system."),
    )
    scopes = forms.MultipleChoiceField(
        label=_("Scopes"),
        choices=ApiKey.Scope.choices,
        widget=forms.CheckboxSelectMultiple,
        initial=[ApiKey.Scope.READ],
    )
    expires_at = forms.DateTimeField(
        label=_("Expires at"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text=_("Leave empty for a key that lasts until it is revoked."),
    )
