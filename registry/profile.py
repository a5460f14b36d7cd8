"""A person's own profile: their name, their mobile number (for SMS) and their e-mail address.

A new e-mail address takes effect only when its owner follows the link sent to it; the old
address is told of the change at once. The link is a signed, timed token carrying both
addresses, so it works once (after the change the old address no longer matches) and lapses
after ``EMAIL_CHANGE_LINK_HOURS``.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext as _

from notifications.sms import parse_philippine_mobile
from registry.models import OwnerProfile

if TYPE_CHECKING:
    from django.contrib.auth.models import User

_EMAIL_CHANGE_SALT = "talaan.registry.email-change"


def clean_mobile_number(number: str) -> str:
    """A Philippine mobile number in E.164, "" for none; ValidationError if it is not one."""
    if not number.strip():
        return ""
    try:
        return parse_philippine_mobile(number)
    except ValueError:
        raise ValidationError(
            _("Enter a Philippine mobile number, such as 0917 123 4567 or +63 917 123 4567."),
            code="mobile_number",
        ) from None


def mobile_number_of(user: User) -> str:
    profile = OwnerProfile.objects.filter(user=user).first()
    return profile.mobile_number if profile else ""


@transaction.atomic(durable=True)
def profile_update(*, user: User, first_name: str, last_name: str, mobile_number: str) -> None:
    """Change the person's name and mobile number (stored as +639XXXXXXXXX)."""
    mobile = clean_mobile_number(mobile_number)
    user.first_name = first_name.strip()
    user.last_name = last_name.strip()
    user.full_clean(validate_unique=False, exclude=["password"])
    user.save(update_fields=["first_name", "last_name"])
    profile, _created = OwnerProfile.objects.get_or_create(user=user)
    if profile.mobile_number != mobile:
        profile.mobile_number = mobile
        profile.save(update_fields=["mobile_number", "updated_at"])


def _address_taken(email: str, *, by_other_than: User) -> bool:
    return (
        get_user_model().objects.filter(email__iexact=email).exclude(pk=by_other_than.pk).exists()
    )


@transaction.atomic(durable=True)
def email_change_request(*, user: User, new_email: str, site_url: str) -> None:
    """Send a confirmation link to ``new_email`` and tell the current address; change nothing."""
    new_email = get_user_model().objects.normalize_email(new_email.strip()).lower()
    if new_email == user.email.lower():
        raise ValidationError({"new_email": _("This is already your e-mail address.")})
    if _address_taken(new_email, by_other_than=user):
        raise ValidationError({"new_email": _("Another account uses this e-mail address.")})
    token = signing.dumps(
        {"user": user.pk, "old": user.email, "new": new_email}, salt=_EMAIL_CHANGE_SALT
    )
    link = site_url + reverse("profile-email-confirm", args=[token])
    hours = settings.EMAIL_CHANGE_LINK_HOURS
    name = user.get_full_name() or user.get_username()
    confirm = _(
        "Hello %(name)s,\n\nTo make %(new)s the e-mail address of your %(service)s account, "
        "open this link within %(hours)s hours:\n\n%(link)s\n\nUntil you do, messages keep "
        "going to your current address. If you did not ask for this, ignore this message."
    ) % {
        "name": name,
        "new": new_email,
        "service": settings.SERVICE_NAME,
        "hours": hours,
        "link": link,
    }
    notice = _(
        "Hello %(name)s,\n\nSomeone (we hope you) asked to change the e-mail address of your "
        "%(service)s account from this address to %(new)s. Nothing changes until the link "
        "sent there is opened. If this was not you, change your password and contact the "
        "help desk at %(help)s."
    ) % {
        "name": name,
        "new": new_email,
        "service": settings.SERVICE_NAME,
        "help": settings.HELP_EMAIL,
    }
    subject = _("Confirm your new e-mail address")
    transaction.on_commit(partial(_send, subject=subject, message=confirm, to=new_email))
    if user.email:
        transaction.on_commit(
            partial(
                _send,
                subject=_("Your e-mail address is being changed"),
                message=notice,
                to=user.email,
            )
        )


def _send(*, subject: str, message: str, to: str) -> None:
    send_mail(
        subject=subject, message=message, from_email=None, recipient_list=[to], fail_silently=True
    )


@transaction.atomic(durable=True)
def email_change_confirm(*, token: str) -> User:
    """Make the new address the account's; an expired, used or forged link is refused."""
    max_age = settings.EMAIL_CHANGE_LINK_HOURS * 3600
    try:
        claim = signing.loads(token, salt=_EMAIL_CHANGE_SALT, max_age=max_age)
    except signing.SignatureExpired:
        raise ValidationError(
            _("This link has expired. Ask for the change again on your profile page.")
        ) from None
    except signing.BadSignature:
        raise ValidationError(_("This confirmation link is not valid.")) from None
    User = get_user_model()
    user = User.objects.select_for_update().filter(pk=claim.get("user")).first()
    if user is None or user.email != claim.get("old"):
        raise ValidationError(_("This confirmation link is not valid or was already used."))
    if _address_taken(claim["new"], by_other_than=user):
        raise ValidationError(_("Another account uses this e-mail address now."))
    user.email = claim["new"]
    user.save(update_fields=["email"])
    return user
