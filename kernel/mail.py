"""One-time links by e-mail (account confirmation, invitations), sent after commit."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from django.contrib.auth.tokens import default_token_generator
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def send_token_link(
    *, user: User, url_name: str, site_url: str, subject: str, message: str
) -> None:
    """E-mail ``message`` plus a link to ``url_name`` carrying a token for ``user``.

    The token is Django's password-reset token, so it stops working once used (the password
    or the account changes). Sent after commit: a rolled-back sign-up sends nothing.
    """
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    link = site_url + reverse(url_name, args=[uid, default_token_generator.make_token(user)])
    transaction.on_commit(
        partial(
            send_mail,
            subject=subject,
            message=f"{message}\n\n{link}\n",
            from_email=None,
            recipient_list=[user.email],
            fail_silently=True,
        )
    )
