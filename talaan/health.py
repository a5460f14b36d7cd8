"""Liveness and readiness probes for load balancers and Kubernetes.

``/readyz`` answers whether this process can serve, which is whether its database answers.
Redis, the ledger and the document stores are reported beside it, each probed in a thread of
its own for at most ``DEPENDENCY_SECONDS``, and never fail readiness: they are shared by every
web process, so failing readiness for them would take all of them out of service at once when
Redis or a peer blinks, while pages that need neither keep working.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, connection, connections
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from ledger import get_ledger
from registry.storage import document_storage

# How long /readyz waits for the slowest dependency; a probe's own timeout may be longer.
DEPENDENCY_SECONDS = 2.0
_STORE_PROBE = "readyz-probe-never-stored"

Check = dict[str, object]


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """The process is up and serving requests."""
    return JsonResponse({"status": "ok"})


def _database() -> Check:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError as exc:
        return {"ok": False, "detail": str(exc)}
    return {"ok": True}


def _redis() -> Check:
    if not settings.REDIS_URL:
        return {"ok": True, "detail": "not configured: in-process cache, channel layer, tasks"}
    cache.set("readyz", "1", 5)
    if cache.get("readyz") != "1":
        return {"ok": False, "detail": "Redis did not return what was just written"}
    return {"ok": True}


def _ledger() -> Check:
    health = get_ledger().health()
    return {"ok": health.ok, "detail": health.detail}


def _store(backend: str) -> Callable[[], Check]:
    def probe() -> Check:
        # A name never stored: the store must answer "not there", which means it answers.
        document_storage(backend).exists(_STORE_PROBE)
        return {"ok": True}

    return probe


def _in_own_thread(probe: Callable[[], Check]) -> Callable[[], Check]:
    def run() -> Check:
        try:
            return probe()
        except Exception as exc:  # any failure of a dependency is reported, never raised
            return {"ok": False, "detail": f"{exc.__class__.__name__}: {exc}"}
        finally:
            connections.close_all()  # this thread's own connections

    return run


def dependencies() -> dict[str, Check]:
    """What every shared dependency says, within DEPENDENCY_SECONDS for all of them."""
    probes: dict[str, Callable[[], Check]] = {"redis": _redis, "ledger": _ledger}
    for alias in settings.STORAGES:
        if alias.startswith("documents:"):
            backend = alias.split(":", 1)[1]
            probes[f"store:{backend}"] = _store(backend)
    pool = ThreadPoolExecutor(max_workers=len(probes), thread_name_prefix="readyz")
    try:
        futures = {name: pool.submit(_in_own_thread(probe)) for name, probe in probes.items()}
        give_up_at = time.monotonic() + DEPENDENCY_SECONDS
        results: dict[str, Check] = {}
        for name, future in futures.items():
            try:
                results[name] = future.result(timeout=max(give_up_at - time.monotonic(), 0))
            except FutureTimeout:
                results[name] = {"ok": False, "detail": f"no answer within {DEPENDENCY_SECONDS} s"}
        return results
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    """Ready when the database answers; the shared dependencies are reported beside it."""
    database = _database()
    others = dependencies()
    ready = bool(database["ok"])
    return JsonResponse(
        {
            "status": "ready" if ready else "unavailable",
            "checks": {"database": database},
            "dependencies": others,
            "degraded": sorted(name for name, check in others.items() if not check["ok"]),
        },
        status=200 if ready else 503,
    )
