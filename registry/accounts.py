"""Owner accounts: sign-up with e-mail verification."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.encoding import force_str
from django.utils.http import urlsafe_base64_decode
from django.utils.translation import gettext_lazy as _

from kernel.mail import send_token_link
from registry.models import OwnerProfile

if TYPE_CHECKING:
    from django.contrib.auth.models import User


@transaction.atomic(durable=True)
def owner_sign_up(
    *,
    username: str,
    first_name: str,
    last_name: str,
    email: str,
    password: str,
    mobile_number: str,
    site_url: str,
) -> User:
    """Create an owner's account, inactive until they follow the link we e-mail them."""
    User = get_user_model()
    user = User(username=username, first_name=first_name, last_name=last_name, email=email)
    user.set_password(password)
    user.is_active = False
    user.full_clean()
    user.save(force_insert=True)
    OwnerProfile.objects.create(user=user, mobile_number=mobile_number.strip())
    send_token_link(
        user=user,
        url_name="verify-email",
        site_url=site_url,
        subject=str(_("Confirm your Talaan account")),
        message=_(
            "Hello %(name)s,\n\nConfirm your e-mail address to start using Talaan. If you did "
            "not sign up, ignore this message."
        )
        % {"name": first_name},
    )
    return user


@transaction.atomic(durable=True)
def owner_verify_email(*, uidb64: str, token: str) -> User:
    """Activate the account the link was made for; a used or forged link is refused."""
    User = get_user_model()
    try:
        user = User.objects.select_for_update().get(pk=force_str(urlsafe_base64_decode(uidb64)))
    except (User.DoesNotExist, ValueError, TypeError, OverflowError):
        raise ValidationError(_("This confirmation link is not valid.")) from None
    if user.is_active or not default_token_generator.check_token(user, token):
        raise ValidationError(_("This confirmation link is not valid or was already used."))
    user.is_active = True
    user.save(update_fields=["is_active"])
    return user
