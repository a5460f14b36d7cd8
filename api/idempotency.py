"""``Idempotency-Key`` for API POSTs: a retried request replays the first response.

The key is scoped to the caller (API key id, else user id) and bound to a SHA-256 of the
method, path and body in a canonical form (JSON as parsed, query parameters sorted).

While a request runs, it holds its key (``api.holds``: a PostgreSQL advisory lock on its
own connection), so a retry meanwhile gets 409 with ``Retry-After``; a server killed
mid-request lets go with its connection, and the next retry runs the operation again
instead of waiting out the key's 24 hours. The record is claimed before the operation runs
and completed after it, each in its own short transaction, so the service keeps its own
(durable) transaction. Only responses that a retry would get again are stored: 2xx, and 4xx
problems that are not retryable. A 5xx (a ledger outage, a bug) or a retryable 409 releases
the key, so a retry runs the operation again.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Collection
from datetime import timedelta
from functools import wraps
from typing import Any

from django.db import transaction
from django.http import HttpResponse, HttpResponseBase
from django.http.request import RawPostDataException
from django.utils import timezone
from django.utils.translation import gettext
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.authentication import caller_key
from api.holds import held
from api.models import IdempotencyRecord

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
KEY_TTL = timedelta(hours=24)
MAX_KEY_LENGTH = 255
# Most operations answer within a second or two; the ledger's deadline bounds the rest.
IN_FLIGHT_RETRY_AFTER = 2

# Visible ASCII, no spaces (a UUID fits): what survives every HTTP stack unchanged.
KEY_PATTERN = re.compile(rf"[!-~]{{1,{MAX_KEY_LENGTH}}}")

IDEMPOTENCY_KEY_PARAMETER = OpenApiParameter(
    HEADER,
    {
        "type": "string",
        "minLength": 1,
        "maxLength": MAX_KEY_LENGTH,
        "pattern": f"^{KEY_PATTERN.pattern}$",
        "example": "5f1c7e2a-3b9d-4c61-9a0e-2d8f4b7c1e90",
    },
    OpenApiParameter.HEADER,
    required=False,
    description=(
        f"A unique value you choose (a UUID) for this request: 1 to {MAX_KEY_LENGTH} visible "
        "ASCII characters, no spaces (anything else is 400 `invalid`, naming the header). "
        "Retrying with the same key and body within 24 hours replays the first response, "
        "marked `Idempotent-Replayed: true`; the same key with a different body is refused "
        "(422 `idempotency_key_reused`); a retry while the first request is still running "
        "gets 409 `conflict` with `Retry-After`. Errors that a retry could fix (5xx, "
        "retryable problems) are not stored."
    ),
)


class IdempotencyKeyReused(exceptions.APIException):
    status_code = 422
    default_code = "idempotency_key_reused"
    default_detail = "This Idempotency-Key was already used with a different request body."


class IdempotencyKeyInFlight(exceptions.APIException):
    """A request with this key is running now; its answer will be there shortly."""

    status_code = 409
    default_code = "conflict"
    default_detail = "A request with this Idempotency-Key is still being processed; retry soon."
    retryable = True

    def __init__(self) -> None:
        super().__init__()
        self.wait = IN_FLIGHT_RETRY_AFTER  # DRF's handler sends it as Retry-After


def _caller(request: Request) -> str:
    key = caller_key(request)
    return f"key:{key.pk}" if key is not None else f"user:{request.user.pk}"


def _canonical_body(request: Request) -> bytes:
    """The body as the operation will read it, so that equal requests compare equal.

    A JSON body (the only kind the API parses) is compared as parsed: key order, spacing and
    escapes do not make it another request. Anything else, including JSON that does not
    parse (it will be refused as such), is compared byte for byte.
    """
    try:
        body = request.body
    except RawPostDataException:
        # Something already consumed the stream; the parsed data names the same request.
        return json.dumps(request.data, sort_keys=True, default=str).encode()
    media_type = (request.content_type or "").split(";")[0].strip().lower()
    if not body or not (media_type == "application/json" or media_type.endswith("+json")):
        return body
    try:
        parsed = json.loads(body)
    except ValueError:
        return body
    canonical = json.dumps(parsed, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return b"json:" + canonical.encode()


def _canonical_path(request: Request) -> bytes:
    """The path with its query parameters in sorted order (their order means nothing)."""
    query = sorted(request.GET.lists())
    return (request.path + "?" + json.dumps(query, ensure_ascii=False)).encode()


def _digest(*parts: bytes) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part)
        digest.update(b"\n")
    return digest.hexdigest()


def _fingerprint(request: Request) -> str:
    assert request.method is not None  # set on every request a view is handed
    return _digest(request.method.encode(), _canonical_path(request), _canonical_body(request))


def _raw_fingerprint(request: Request) -> str:
    """What records claimed before bodies were compared canonically hold (raw path and body).

    Accepted as well for as long as such a record can live (24 hours after the upgrade), so
    a retry that spans the upgrade still replays. Remove with the next release.
    """
    assert request.method is not None
    try:
        body = request.body
    except RawPostDataException:
        body = json.dumps(request.data, sort_keys=True, default=str).encode()
    return _digest(request.method.encode(), request.get_full_path().encode(), body)


def _validated_key(raw: str) -> str:
    key = raw.strip()
    if not KEY_PATTERN.fullmatch(key):
        raise exceptions.ValidationError(
            {
                HEADER: [
                    gettext(
                        "Use 1 to %(length)s visible ASCII characters and no spaces, e.g. a UUID."
                    )
                    % {"length": MAX_KEY_LENGTH}
                ]
            }
        )
    return key


def idempotency_claim(
    *, caller: str, key: str, request_sha256: str, also_matches: Collection[str] = ()
) -> IdempotencyRecord:
    """The caller's record for this key, claimed as pending if it is new (or expired).

    Call it holding the key (``held(hold_name(...))``): a pending record found then was left
    by a request that died before it completed, and is taken over. Raises 422 when the key
    was used with another body (a stored fingerprint that is neither ``request_sha256`` nor
    one of ``also_matches``).
    """
    with transaction.atomic():
        IdempotencyRecord.objects.filter(
            caller=caller, key=key, created_at__lt=timezone.now() - KEY_TTL
        ).delete()
        record, _ = IdempotencyRecord.objects.get_or_create(
            caller=caller, key=key, defaults={"request_sha256": request_sha256}
        )
    if record.request_sha256 != request_sha256 and record.request_sha256 not in also_matches:
        raise IdempotencyKeyReused()
    return record


def idempotency_record_while_held(
    *, caller: str, key: str, request_sha256: str, also_matches: Collection[str] = ()
) -> IdempotencyRecord:
    """Another request holds the key: its stored answer if it has one (a retry racing a
    replay), 422 if it was for another body, else 409 to retry shortly."""
    record = IdempotencyRecord.objects.filter(caller=caller, key=key).first()
    if record is not None and record.request_sha256 not in {request_sha256, *also_matches}:
        raise IdempotencyKeyReused()
    if record is None or record.state != IdempotencyRecord.State.DONE:
        raise IdempotencyKeyInFlight()
    return record


def hold_name(*, caller: str, key: str) -> str:
    return f"idempotency\n{caller}\n{key}"


def idempotency_complete(*, record_id: int, response: HttpResponseBase) -> None:
    """Store the response if a retry would get it again; otherwise release the key."""
    status = response.status_code
    data = getattr(response, "data", None)
    retryable = isinstance(data, dict) and bool(data.get("retryable"))
    keep = 200 <= status < 300 or (400 <= status < 500 and status != 429 and not retryable)
    with transaction.atomic():
        records = IdempotencyRecord.objects.filter(pk=record_id)
        if not keep:
            records.delete()
            return
        records.update(
            state=IdempotencyRecord.State.DONE,
            status_code=status,
            content_type=response.get("Content-Type", ""),
            body=bytes(getattr(response, "content", b"")),
            updated_at=timezone.now(),
        )


def idempotency_release(*, record_id: int) -> None:
    with transaction.atomic():
        IdempotencyRecord.objects.filter(pk=record_id).delete()


@transaction.atomic(durable=True)
def idempotency_keys_purge(*, older_than: timedelta = KEY_TTL) -> int:
    """Delete the records of keys past their lifetime; returns how many went."""
    deleted, _ = IdempotencyRecord.objects.filter(
        created_at__lt=timezone.now() - older_than
    ).delete()
    return deleted


def _replay(record: IdempotencyRecord) -> HttpResponse:
    response = HttpResponse(
        bytes(record.body), status=record.status_code, content_type=record.content_type
    )
    response[REPLAYED_HEADER] = "true"
    return response


Handler = Callable[..., HttpResponseBase]


def _run_and_record(
    view: APIView,
    request: Request,
    record: IdempotencyRecord,
    handler: Callable[..., Response],
    *args: Any,
    **kwargs: Any,
) -> HttpResponseBase:
    try:
        try:
            response = handler(view, request, *args, **kwargs)
        except Exception as exc:
            # The problem+json a client would get is what a replay must give.
            response = view.handle_exception(exc)
        response = view.finalize_response(request, response, *args, **kwargs)
        if hasattr(response, "render"):
            response.render()
    except BaseException:
        idempotency_release(record_id=record.pk)
        raise
    idempotency_complete(record_id=record.pk, response=response)
    return response


def idempotent(handler: Callable[..., Response]) -> Handler:
    """Make an APIView's ``post`` honour ``Idempotency-Key`` (and document the header)."""

    @wraps(handler)
    def wrapper(view: APIView, request: Request, *args: Any, **kwargs: Any) -> HttpResponseBase:
        raw = request.headers.get(HEADER)
        if raw is None:
            return handler(view, request, *args, **kwargs)
        caller, key = _caller(request), _validated_key(raw)
        sha256, legacy = _fingerprint(request), [_raw_fingerprint(request)]
        with held(hold_name(caller=caller, key=key)) as got:
            # Not held: another request with this key is running now (or just finished).
            look_up = idempotency_claim if got else idempotency_record_while_held
            record = look_up(caller=caller, key=key, request_sha256=sha256, also_matches=legacy)
            if record.state == IdempotencyRecord.State.DONE:
                return _replay(record)
            return _run_and_record(view, request, record, handler, *args, **kwargs)

    return extend_schema(parameters=[IDEMPOTENCY_KEY_PARAMETER])(wrapper)
