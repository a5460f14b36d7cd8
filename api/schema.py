"""The response headers and shared problems of every operation, declared once in the schema.

An operation added later gets them from what it already declares (a 304, a POST, a 429).
"""

from __future__ import annotations

from typing import Any

from api.conditional import CACHE_CONTROL
from api.problems import PROBLEM_CONTENT_TYPE, PROBLEM_EXAMPLES, TITLES, problem

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
    "RetryAfterInFlight": {
        "description": (
            "With 409 `conflict` for a request whose `Idempotency-Key` is still being "
            "processed: seconds to wait before retrying. Absent on other conflicts."
        ),
        "required": False,
        "schema": {"type": "integer", "minimum": 0, "example": 2},
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
    "RetryAfterInFlight": "Retry-After",
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
    if method == "post" and status == "409" and _is_idempotent(operation):
        names.append("RetryAfterInFlight")
    if status == "401":
        names.append("WWWAuthenticate")
    return names


def _is_idempotent(operation: dict[str, Any]) -> bool:
    return any(
        p.get("in") == "header" and p.get("name") == "Idempotency-Key"
        for p in operation.get("parameters", [])
    )


def _problem_entry(status: int) -> dict[str, Any]:
    code, detail = PROBLEM_EXAMPLES.get(status, ("error", TITLES.get(status, "Error")))
    example = problem(status=status, code=code, detail=detail, retryable=status in (429, 503))
    return {
        "description": TITLES.get(status, "Error"),
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
    they come from ``api.pagination`` and ``api.idempotency``, not from each operation.
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


# What Django's text fields refuse in any input, said in the schema so that every value it
# allows is accepted: NUL (PostgreSQL cannot hold it), and only spaces where a value must
# not be blank (the field trims them first).
ANY_TEXT = r"^[^\x00]*$"
NON_BLANK_TEXT = r"^[^\x00]*[^\x00\s][^\x00]*$"


def _declare_text(schema: dict[str, Any]) -> None:
    """Give every free text in ``schema`` (nested objects and lists too) its pattern."""
    if schema.get("type") == "string":
        if not any(key in schema for key in ("format", "enum", "pattern")):
            schema["pattern"] = NON_BLANK_TEXT if schema.get("minLength", 0) >= 1 else ANY_TEXT
        return
    for nested in schema.get("properties", {}).values():
        _declare_text(nested)
    for key in ("items", "additionalProperties"):
        if isinstance(schema.get(key), dict):
            _declare_text(schema[key])
    for key in ("oneOf", "anyOf", "allOf"):
        for option in schema.get(key, []):
            _declare_text(option)


def declare_text_inputs(
    result: dict[str, Any], generator: object, request: object, public: bool
) -> dict[str, Any]:
    """drf-spectacular postprocessing hook: the text that request bodies (their ``*Request``
    components, COMPONENT_SPLIT_REQUEST) and query parameters accept."""
    for name, component in result.get("components", {}).get("schemas", {}).items():
        if name.endswith("Request"):
            _declare_text(component)
    for path_item in result.get("paths", {}).values():
        for operation in path_item.values():
            for parameter in operation.get("parameters", []):
                if parameter.get("in") == "query" and "schema" in parameter:
                    _declare_text(parameter["schema"])
            for content in operation.get("requestBody", {}).get("content", {}).values():
                if "$ref" not in content.get("schema", {}):
                    _declare_text(content.get("schema", {}))
    return result
