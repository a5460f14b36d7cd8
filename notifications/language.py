"""The language a person reads Talaan in: the header's switch, remembered per user.

Each request takes its language from the language cookie, else from the browser's
Accept-Language (Django's LocaleMiddleware): no query per request. The saved choice (a
LanguagePreference row) is read once, at sign-in, and becomes the cookie, so a person who chose
Filipino on one browser reads Filipino on any browser once signed in. Messages sent to a person
(e-mail, SMS) use `language_of`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal, cast

from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.utils import translation
from django.views.decorators.http import require_POST
from django.views.i18n import set_language as django_set_language

from notifications.models import LanguagePreference

# Set on the request by the sign-in, read by the middleware to write the cookie.
_CHOSEN_AT_LOGIN = "_talaan_language_at_login"


def _known(code: str) -> bool:
    return code in dict(settings.LANGUAGES)


def saved_language(user_id: int) -> str | None:
    """The person's saved choice, if they made one the site still offers."""
    code = (
        LanguagePreference.objects.filter(user_id=user_id)
        .values_list("language", flat=True)
        .first()
    )
    return code if code and _known(code) else None


def saved_language_of(user: object) -> str | None:
    """The saved choice of a user object (None for one never saved, e.g. a buyer not signed up)."""
    pk = getattr(user, "pk", None)
    return saved_language(pk) if isinstance(pk, int) else None


def language_of(user_id: int) -> str:
    """The language to write to this person in: their saved choice, else the site's."""
    return saved_language(user_id) or settings.LANGUAGE_CODE


def language_remember(*, user_id: int, language: str) -> None:
    """Save the person's choice (one row per person)."""
    LanguagePreference.objects.update_or_create(user_id=user_id, defaults={"language": language})


def apply_saved_language(sender: object, request: HttpRequest, user, **kwargs: object) -> None:
    """At sign-in, the person's saved language replaces the browser's, from this response on."""
    code = LanguagePreference.objects.filter(user=user).values_list("language", flat=True).first()
    if code and _known(code):
        translation.activate(code)
        request.LANGUAGE_CODE = code
        setattr(request, _CHOSEN_AT_LOGIN, code)


user_logged_in.connect(apply_saved_language, dispatch_uid="talaan-language-at-login")


class LanguageAtLoginMiddleware:
    """Writes the language cookie when the sign-in applied a saved choice."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        code = getattr(request, _CHOSEN_AT_LOGIN, None)
        if code:
            _set_cookie(response, code)
        return response


def _set_cookie(response: HttpResponseBase, code: str) -> None:
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        code,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        path=settings.LANGUAGE_COOKIE_PATH,
        domain=settings.LANGUAGE_COOKIE_DOMAIN,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite=cast(Literal["Lax", "Strict", "None"], settings.LANGUAGE_COOKIE_SAMESITE),
    )


@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """The header's switch (a plain form, no script): the cookie, and for a signed-in person
    their saved choice; then back to the page they were on (Django's own set_language)."""
    response = django_set_language(request)
    code = request.POST.get("language", "")
    if _known(code) and request.user.is_authenticated:
        language_remember(user_id=request.user.pk, language=code)
    return response
