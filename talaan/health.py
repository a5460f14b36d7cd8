"""Liveness and readiness probes for load balancers and Kubernetes."""

from __future__ import annotations

from django.core.cache import cache
from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from ledger import get_ledger


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """The process is up and serving requests."""
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    """The database, the cache and the ledger all answer."""
    checks: dict[str, dict[str, object]] = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = {"ok": True}
    except DatabaseError as exc:
        checks["database"] = {"ok": False, "detail": str(exc)}
    try:
        cache.set("readyz", "1", 5)
        checks["cache"] = {"ok": cache.get("readyz") == "1"}
    except Exception as exc:  # any cache backend error means not ready
        checks["cache"] = {"ok": False, "detail": str(exc)}
    try:
        health = get_ledger().health()
        checks["ledger"] = {"ok": health.ok, "detail": health.detail}
    except Exception as exc:  # an unreachable or misconfigured ledger means not ready
        checks["ledger"] = {"ok": False, "detail": str(exc)}
    ready = all(check["ok"] for check in checks.values())
    return JsonResponse(
        {"status": "ready" if ready else "unavailable", "checks": checks},
        status=200 if ready else 503,
    )
