"""Domain errors and the one place that maps them to HTTP status codes and messages.

Views and API classes let these propagate; ``describe`` turns any of them into a status,
a stable code, a message for people, and whether retrying can help.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeAlias, overload

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from chaincode.rules import NotAuthorised, RuleViolation, TransitionNotAllowed
from kernel.i18n import Message
from kernel.refusals import refusal_text


class DomainError(Exception):
    """An error the user can be told about; subclasses say whether a retry can help."""

    code = "domain_error"
    http_status = 400
    retryable = False
    default_message: str | Promise = _("The request could not be completed.")
    # What the error names field by field, when it does (shown as a problem's ``errors``).
    fields: dict[str, list[str]] | None = None
    # A refusal the ledger's chaincode made: its stable reason and parameters, which
    # ``describe`` words in the reader's language (see kernel.refusals).
    reason: str = ""
    params: dict[str, str] = {}  # read-only default, replaced per instance

    def __init__(self, message: str | Promise | Message | None = None) -> None:
        # A lazy message is kept lazy, so that it is read in the language of whoever reads it.
        self._message = message or self.default_message
        super().__init__(str(self._message))

    @property
    def message(self) -> str:
        return str(self._message)

    @message.setter
    def message(self, value: str | Promise | Message) -> None:
        self._message = value


class Conflict(DomainError):
    """Someone else changed or is changing the same thing; reload and try again."""

    code = "conflict"
    http_status = 409
    retryable = True
    default_message: str | Promise = _(
        "Someone else is changing this right now. Reload the page and try again."
    )


class PermissionDenied(DomainError):
    """The user is signed in but may not do this."""

    code = "permission_denied"
    http_status = 403
    default_message: str | Promise = _("You are not allowed to do this.")


@dataclass(frozen=True)
class ErrorInfo:
    status: int
    code: str
    message: str
    retryable: bool
    fields: dict[str, list[str]] | None = None


# What a view catches around a service call: errors the user is told about, never bugs.
USER_ERRORS = (DomainError, RuleViolation, ValidationError)
UserError: TypeAlias = DomainError | RuleViolation | ValidationError


@overload
def describe(exc: UserError) -> ErrorInfo: ...
@overload
def describe(exc: Exception) -> ErrorInfo | None: ...
def describe(exc: Exception) -> ErrorInfo | None:
    """Map a domain error to what the user is told; None for errors that are bugs."""
    if isinstance(exc, DomainError):
        message = exc.message
        if exc.reason:
            message = refusal_text(reason=exc.reason, params=exc.params, sentence=message)
        return ErrorInfo(exc.http_status, exc.code, message, exc.retryable, exc.fields)
    if isinstance(exc, RuleViolation):
        status = 409 if isinstance(exc, TransitionNotAllowed) else 422
        if isinstance(exc, NotAuthorised):
            status = 403
        message = refusal_text(reason=exc.reason, params=exc.params, sentence=exc.message)
        return ErrorInfo(status, exc.code, message, False)
    if isinstance(exc, ValidationError):
        fields = exc.message_dict if hasattr(exc, "error_dict") else None
        message = "; ".join(exc.messages)
        return ErrorInfo(422, "invalid", message, False, fields)
    return None


class DomainErrorMiddleware:
    """Render domain errors that reach the top as a page (or JSON) with the right status."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exc: Exception) -> HttpResponse | None:
        info = describe(exc)
        if info is None:
            return None
        if "application/json" in request.headers.get("Accept", ""):
            return JsonResponse(
                {"code": info.code, "detail": info.message, "retryable": info.retryable},
                status=info.status,
            )
        return render(request, "error.html", {"error": info}, status=info.status)
