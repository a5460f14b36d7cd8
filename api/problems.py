"""Every API error as ``application/problem+json`` (RFC 9457) with a stable ``code``.

Domain errors are mapped by ``kernel.errors.describe``, the same mapping the browser uses;
DRF's own errors (authentication, 404, 405, parse, validation, throttling) keep their status
and headers (``WWW-Authenticate``, ``Retry-After``) and get the same shape. A 503 (the ledger
is not answering) says when to retry in ``Retry-After`` too.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from django.utils.translation.trans_real import parse_accept_lang_header
from django.views import defaults
from drf_spectacular.utils import OpenApiExample, OpenApiResponse
from rest_framework import exceptions, serializers
from rest_framework.response import Response
from rest_framework.views import exception_handler

from kernel.errors import describe

PROBLEM_CONTENT_TYPE = "application/problem+json"
# Seconds a client should wait before retrying when a service we depend on is down.
RETRY_AFTER_UNAVAILABLE = 5

TITLES = {
    400: _("Bad request"),
    401: _("Not authenticated"),
    403: _("Forbidden"),
    404: _("Not found"),
    405: _("Method not allowed"),
    406: _("Not acceptable"),
    409: _("Conflict"),
    415: _("Unsupported media type"),
    422: _("Unprocessable content"),
    429: _("Too many requests"),
    500: _("Internal server error"),
    503: _("Service unavailable"),
}
_ERROR_TITLE = _("Error")
INVALID_DETAIL = _("The request has invalid fields; see errors.")
NO_SUCH_OPERATION = _("No such API operation.")
SERVER_ERROR = _("Something went wrong on our side.")
# DRF's own messages for its errors (DRF ships no Filipino), by their stable code.
DRF_DETAILS = {
    "not_authenticated": _("Authentication credentials were not provided."),
    "authentication_failed": _("Incorrect authentication credentials."),
    "permission_denied": _("You are not allowed to do this."),
    "not_found": _("Not found."),
    "method_not_allowed": _("This method is not allowed here."),
    "not_acceptable": _("Could not satisfy the request's Accept header."),
    "unsupported_media_type": _("Unsupported media type in the request."),
    "parse_error": _("Malformed request."),
}


def problem_language(request: HttpRequest | None) -> str:
    """The language of a problem's ``title`` and ``detail``: the first of the request's
    ``Accept-Language`` that the site offers, else the site's default (English). Only the
    header counts: an API client says what it reads there, and a stored preference of the
    signed-in user is for pages."""
    header = request.META.get("HTTP_ACCEPT_LANGUAGE", "") if request is not None else ""
    for accepted, _quality in parse_accept_lang_header(header):
        if accepted == "*":
            break
        try:
            return translation.get_supported_language_variant(accepted)
        except LookupError:
            continue
    return settings.LANGUAGE_CODE


def problem(
    *,
    status: int,
    code: str,
    detail: Any,
    retryable: bool = False,
    errors: dict[str, Any] | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": f"urn:talaan:problem:{code}",
        "title": str(TITLES.get(status, _ERROR_TITLE)),
        "status": status,
        "detail": str(detail),
        "code": code,
        "retryable": retryable,
    }
    if errors:
        body["errors"] = errors
    return body


def _drf_problem(exc: exceptions.APIException, status: int) -> dict[str, Any]:
    if isinstance(exc, exceptions.ValidationError):
        errors = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        return problem(
            status=status,
            code="invalid",
            detail=INVALID_DETAIL,
            errors=errors,
        )
    code = str(exc.default_code)
    detail: Any = str(exc.detail)
    if code in DRF_DETAILS and detail == str(exc.default_detail):
        # DRF's own wording (not a message of ours passed in): say it in the reader's language.
        detail = DRF_DETAILS[code]
    return problem(
        status=status,
        code=code,
        detail=detail,
        retryable=getattr(exc, "retryable", isinstance(exc, exceptions.Throttled)),
    )


def problem_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's EXCEPTION_HANDLER: every known error as problem+json; bugs stay 500s. The
    ``title`` and ``detail`` follow ``Accept-Language``; ``type`` and ``code`` never change."""
    with translation.override(problem_language(context.get("request"))):
        return _problem_response(exc, context)


def _problem_response(exc: Exception, context: dict[str, Any]) -> Response | None:
    info = describe(exc)
    if info is not None:
        body = problem(
            status=info.status,
            code=info.code,
            detail=info.message,
            retryable=info.retryable,
            errors=info.fields,
        )
        answer = Response(body, status=info.status, content_type=PROBLEM_CONTENT_TYPE)
        if info.status == 503:
            answer["Retry-After"] = str(RETRY_AFTER_UNAVAILABLE)
        return answer
    # DRF's handler turns Http404/PermissionDenied into its own exceptions and sets headers.
    response = exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(str(exc) or None)
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    if not isinstance(exc, exceptions.APIException):
        return response
    response.data = _drf_problem(exc, response.status_code)
    response.content_type = PROBLEM_CONTENT_TYPE
    if response.status_code == 503 and "Retry-After" not in response:
        response["Retry-After"] = str(RETRY_AFTER_UNAVAILABLE)
    return response


def api_aware_404(request: HttpRequest, exception: Exception) -> HttpResponse:
    """Django's 404 page, or problem+json for paths under /api/ that match no route."""
    if request.path.startswith("/api/"):
        with translation.override(problem_language(request)):
            body = problem(status=404, code="not_found", detail=NO_SUCH_OPERATION)
        return JsonResponse(body, status=404, content_type=PROBLEM_CONTENT_TYPE)
    return defaults.page_not_found(request, exception)


def api_aware_500(request: HttpRequest) -> HttpResponse:
    """Django's 500 page, or problem+json under /api/; the error is logged by Django."""
    if request.path.startswith("/api/"):
        with translation.override(problem_language(request)):
            body = problem(status=500, code="server_error", detail=SERVER_ERROR)
        return JsonResponse(body, status=500, content_type=PROBLEM_CONTENT_TYPE)
    return defaults.server_error(request)


class ProblemSerializer(serializers.Serializer):
    """An RFC 9457 problem detail."""

    type = serializers.CharField(help_text=("A URI naming the kind of problem."))
    title = serializers.CharField()
    status = serializers.IntegerField()
    detail = serializers.CharField(help_text=("What went wrong, for people."))
    code = serializers.CharField(
        help_text=(
            "Stable machine-readable code, e.g. conflict, transition_not_allowed, "
            "ledger_unavailable, invalid, not_found, not_authenticated, permission_denied."
        )
    )
    retryable = serializers.BooleanField(help_text=("Whether retrying the same request can help."))
    errors = serializers.DictField(  # type: ignore[assignment]  # a declared field, not .errors
        required=False,
        child=serializers.JSONField(),
        help_text=("Field errors by field name (nested for nested objects)."),
    )


PROBLEM_EXAMPLES = {
    400: ("invalid", "The request has invalid fields; see errors."),
    401: ("not_authenticated", "Authentication credentials were not provided."),
    403: ("permission_denied", "You are not allowed to do this."),
    404: ("not_found", "No such clearance request."),
    409: ("conflict", "This request was already approved; nothing was changed."),
    422: ("invalid", "Cannot approve unless macro-etching matches."),
    429: ("throttled", "Request was throttled. Expected available in 12 seconds."),
    503: (
        "ledger_unavailable",
        "The ledger is not answering right now. Nothing was saved; please try again.",
    ),
}


def problem_responses(*statuses: int) -> dict[tuple[int, str], OpenApiResponse]:
    """Schema entries for the errors an operation can answer with."""
    responses = {}
    for status in statuses:
        code, detail = PROBLEM_EXAMPLES.get(status, ("error", str(TITLES.get(status, "Error"))))
        retryable = status in (429, 503)
        example = problem(status=status, code=code, detail=detail, retryable=retryable)
        if status == 400:
            example["errors"] = {"decision": ['"maybe" is not a valid choice.']}
        responses[(status, PROBLEM_CONTENT_TYPE)] = OpenApiResponse(
            response=ProblemSerializer,
            description=str(TITLES.get(status, "Error")),
            examples=[OpenApiExample(code, value=example, status_codes=[str(status)])],
        )
    return responses
