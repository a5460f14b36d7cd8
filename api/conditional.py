"""Conditional reads: a strong ETag over what the body shows, and 304 when it is unchanged."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from django.http import HttpResponseBase, HttpResponseNotModified
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from api.problems import problem_responses

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


def _etag_matches(header: str, etag: str) -> bool:
    # If-None-Match uses the weak comparison (RFC 9110 13.1.2): W/ prefixes are ignored.
    candidates = [tag.strip().removeprefix("W/") for tag in header.split(",")]
    return "*" in candidates or etag in candidates


def conditional_response(request: Request, data: Any) -> HttpResponseBase:
    """200 with a strong ETag over what the body shows, or 304 when the client has it."""
    etag = f'"{hashlib.sha256(JSONRenderer().render(data)).hexdigest()}"'
    return versioned_response(request, etag, lambda: data)


def versioned_response(request: Request, etag: str, body: Callable[[], Any]) -> HttpResponseBase:
    """304 when the client has ``etag`` (a version read before rendering, which changes
    whenever the body would), without calling ``body``; else 200 with ``body()``."""
    header = request.headers.get("If-None-Match")
    response: HttpResponseBase
    if header is not None and _etag_matches(header, etag):
        response = HttpResponseNotModified()
    else:
        response = Response(body())
    response["ETag"] = etag
    response["Cache-Control"] = CACHE_CONTROL
    return response
