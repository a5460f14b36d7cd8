"""What every REST operation shares: errors as problem+json, pagination, schema helpers.

Every error leaves the API as ``application/problem+json`` (RFC 9457) with a stable
``code``. Domain errors are mapped by ``talaan.errors.describe``, the same mapping the
browser uses; DRF's own errors (authentication, 404, 405, parse, validation, throttling)
keep their status and headers (``WWW-Authenticate``, ``Retry-After``) and get the same shape.
A 503 (the ledger is not answering) says when to retry in ``Retry-After`` too.

The response headers are declared in the schema in one place, ``declare_response_headers``,
so an operation added later gets them from what it already declares (a 304, a POST, a 429).
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    HttpResponseNotModified,
    JsonResponse,
)
from django.views import defaults
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse
from rest_framework import exceptions, serializers
from rest_framework.pagination import CursorPagination
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import exception_handler

from talaan.errors import describe

PROBLEM_CONTENT_TYPE = "application/problem+json"
# Seconds a client should wait before retrying when a service we depend on is down.
RETRY_AFTER_UNAVAILABLE = 5

_TITLES = {
    400: "Bad request",
    401: "Not authenticated",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    409: "Conflict",
    415: "Unsupported media type",
    422: "Unprocessable content",
    429: "Too many requests",
    500: "Internal server error",
    503: "Service unavailable",
}


def problem(
    *,
    status: int,
    code: str,
    detail: str,
    retryable: bool = False,
    errors: dict[str, Any] | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": f"urn:talaan:problem:{code}",
        "title": _TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
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
            detail="The request has invalid fields; see errors.",
            errors=errors,
        )
    return problem(
        status=status,
        code=str(exc.default_code),
        detail=str(exc.detail),
        retryable=isinstance(exc, exceptions.Throttled),
    )


def problem_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's EXCEPTION_HANDLER: every known error as problem+json; bugs stay 500s."""
    info = describe(exc)
    if info is not None:
        body = problem(
            status=info.status,
            code=info.code,
            detail=info.message,
            retryable=info.retryable,
            errors=info.fields,
        )
        response = Response(body, status=info.status, content_type=PROBLEM_CONTENT_TYPE)
        if info.status == 503:
            response["Retry-After"] = str(RETRY_AFTER_UNAVAILABLE)
        return response
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
        body = problem(status=404, code="not_found", detail="No such API operation.")
        return JsonResponse(body, status=404, content_type=PROBLEM_CONTENT_TYPE)
    return defaults.page_not_found(request, exception)


def api_aware_500(request: HttpRequest) -> HttpResponse:
    """Django's 500 page, or problem+json under /api/; the error is logged by Django."""
    if request.path.startswith("/api/"):
        body = problem(status=500, code="server_error", detail="Something went wrong on our side.")
        return JsonResponse(body, status=500, content_type=PROBLEM_CONTENT_TYPE)
    return defaults.server_error(request)


class ProblemSerializer(serializers.Serializer):
    """An RFC 9457 problem detail."""

    type = serializers.CharField(help_text="A URI naming the kind of problem.")
    title = serializers.CharField()
    status = serializers.IntegerField()
    detail = serializers.CharField(help_text="What went wrong, for people.")
    code = serializers.CharField(
        help_text="Stable machine-readable code, e.g. conflict, transition_not_allowed, "
        "ledger_unavailable, invalid, not_found, not_authenticated, permission_denied."
    )
    retryable = serializers.BooleanField(help_text="Whether retrying the same request can help.")
    errors = serializers.DictField(
        required=False,
        child=serializers.JSONField(),
        help_text="Field errors by field name (nested for nested objects).",
    )


_PROBLEM_EXAMPLES = {
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
        code, detail = _PROBLEM_EXAMPLES.get(status, ("error", _TITLES.get(status, "Error")))
        retryable = status in (429, 503)
        example = problem(status=status, code=code, detail=detail, retryable=retryable)
        if status == 400:
            example["errors"] = {"decision": ['"maybe" is not a valid choice.']}
        responses[(status, PROBLEM_CONTENT_TYPE)] = OpenApiResponse(
            response=ProblemSerializer,
            description=_TITLES.get(status, "Error"),
            examples=[OpenApiExample(code, value=example, status_codes=[str(status)])],
        )
    return responses


class Cursor(CursorPagination):
    """Stable pages however rows are added meanwhile; 50 a page unless ?page_size= says less.

    A cursor we did not give out is a bad request (400 ``invalid``, naming ``cursor``), not
    DRF's 404: the list exists, the parameter is wrong.
    """

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200

    def decode_cursor(self, request: Request):  # type: ignore[no-untyped-def]
        try:
            return super().decode_cursor(request)
        except exceptions.NotFound:
            raise exceptions.ValidationError(
                {self.cursor_query_param: ["Not a cursor from this list; start from page one."]}
            ) from None


def page_of(output: type[serializers.Serializer], name: str) -> type[serializers.Serializer]:
    """The schema of one cursor page of ``output`` objects."""
    return type(
        name,
        (serializers.Serializer,),
        {
            "next": serializers.URLField(allow_null=True),
            "previous": serializers.URLField(allow_null=True),
            "results": output(many=True),
        },
    )


# Conditional reads.

IF_NONE_MATCH_PARAMETER = OpenApiParameter(
    "If-None-Match",
    str,
    OpenApiParameter.HEADER,
    required=False,
    description=(
        "The `ETag` of a response you already have; the answer is 304 with no body while "
        "what this operation shows is unchanged."
    ),
)
NOT_MODIFIED_RESPONSE = OpenApiResponse(
    description="Not modified: the `ETag` given in `If-None-Match` is still current."
)
CACHE_CONTROL = "private, no-cache"
READ_PROBLEMS = (401, 403, 404, 429)


def conditional_responses(output: Any, problems: tuple[int, ...] = READ_PROBLEMS) -> dict:
    """The answers of a read that sends an ETag: the body, 304, and its problems."""
    return {200: output, 304: NOT_MODIFIED_RESPONSE, **problem_responses(*problems)}


PAGE_PARAMETERS = [
    OpenApiParameter("cursor", str, description="The `next`/`previous` page cursor."),
    OpenApiParameter("page_size", int, description="At most 200; 50 by default."),
]


def _etag_matches(header: str, etag: str) -> bool:
    # If-None-Match uses the weak comparison (RFC 9110 13.1.2): W/ prefixes are ignored.
    candidates = [tag.strip().removeprefix("W/") for tag in header.split(",")]
    return "*" in candidates or etag in candidates


def conditional_response(request: Request, data: Any) -> HttpResponseBase:
    """200 with a strong ETag over what the body shows, or 304 when the client has it."""
    etag = f'"{hashlib.sha256(JSONRenderer().render(data)).hexdigest()}"'
    header = request.headers.get("If-None-Match")
    response: HttpResponseBase
    if header is not None and _etag_matches(header, etag):
        response = HttpResponseNotModified()
    else:
        response = Response(data)
    response["ETag"] = etag
    response["Cache-Control"] = CACHE_CONTROL
    return response


# Response headers, declared once for the whole schema (SPECTACULAR_SETTINGS
# POSTPROCESSING_HOOKS): operations say what they answer (a 304, a 429, a POST), this says
# which headers come with each answer.

RESPONSE_HEADERS: dict[str, dict[str, Any]] = {
    "ETag": {
        "description": (
            "A strong validator of what the body shows; send it back in `If-None-Match` to "
            "get 304 while it is unchanged."
        ),
        "required": True,
        "schema": {"type": "string", "example": '"9f86d081884c7d65…"'},
    },
    "CacheControl": {
        "description": "`private, no-cache`: keep the answer, but revalidate it every time.",
        "required": True,
        "schema": {"type": "string", "example": CACHE_CONTROL},
    },
    "IdempotentReplayed": {
        "description": (
            "`true` when this is the stored first answer to a request sent with the same "
            "`Idempotency-Key` and body; absent when the operation ran."
        ),
        "required": False,
        "schema": {"type": "string", "enum": ["true"]},
    },
    "RetryAfter": {
        "description": "Seconds to wait before trying again.",
        "required": True,
        "schema": {"type": "integer", "minimum": 0, "example": 12},
    },
    "WWWAuthenticate": {
        "description": "How to authenticate: an API key as a bearer token.",
        "required": True,
        "schema": {"type": "string", "example": 'Bearer realm="talaan"'},
    },
}
_HEADER_NAMES = {
    "ETag": "ETag",
    "CacheControl": "Cache-Control",
    "IdempotentReplayed": "Idempotent-Replayed",
    "RetryAfter": "Retry-After",
    "WWWAuthenticate": "WWW-Authenticate",
}


def _headers_for(method: str, status: str, operation: dict[str, Any]) -> list[str]:
    """The components/headers entries an answer of this operation carries."""
    names = []
    conditional = "304" in operation.get("responses", {})
    if conditional and status in ("200", "304"):
        names += ["ETag", "CacheControl"]
    # Replays are stored for successes and for problems a retry would get again; a 401 or
    # 429 is answered before the key is looked at.
    if method == "post" and status[0] in "24" and status not in ("401", "429"):
        names.append("IdempotentReplayed")
    if status in ("429", "503"):
        names.append("RetryAfter")
    if status == "401":
        names.append("WWWAuthenticate")
    return names


def _problem_entry(status: int) -> dict[str, Any]:
    code, detail = _PROBLEM_EXAMPLES.get(status, ("error", _TITLES.get(status, "Error")))
    example = problem(status=status, code=code, detail=detail, retryable=status in (429, 503))
    return {
        "description": _TITLES.get(status, "Error"),
        "content": {
            PROBLEM_CONTENT_TYPE: {
                "schema": {"$ref": "#/components/schemas/Problem"},
                "examples": {code: {"value": example, "summary": code}},
            }
        },
    }


def _shared_problems(operation: dict[str, Any]) -> list[int]:
    """Problems that come from what all operations share, whatever each one declares."""
    names = {(p.get("in"), p.get("name")) for p in operation.get("parameters", [])}
    statuses = []
    if ("query", "cursor") in names:
        statuses.append(400)  # a cursor we did not give out (Cursor)
    if ("header", "Idempotency-Key") in names:
        statuses += [400, 409, 422]  # a malformed key, one in flight, one reused (idempotent)
    return statuses


def declare_response_headers(
    result: dict[str, Any], generator: object, request: object, public: bool
) -> dict[str, Any]:
    """drf-spectacular postprocessing hook: the headers each response is sent with.

    Also the problems every paged list and every idempotent POST can answer with, since
    they come from this module and ``talaan.idempotency``, not from each operation.
    """
    used: set[str] = set()
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            responses = operation.setdefault("responses", {})
            for status in _shared_problems(operation):
                responses.setdefault(str(status), _problem_entry(status))
            operation["responses"] = dict(sorted(responses.items()))
            for status, response in operation.get("responses", {}).items():
                for name in _headers_for(method, status, operation):
                    headers = response.setdefault("headers", {})
                    headers[_HEADER_NAMES[name]] = {"$ref": f"#/components/headers/{name}"}
                    used.add(name)
    if used:
        components = result.setdefault("components", {})
        components["headers"] = {
            **components.get("headers", {}),
            **{name: RESPONSE_HEADERS[name] for name in sorted(used)},
        }
    return result
