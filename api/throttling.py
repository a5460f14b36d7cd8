"""Requests per caller in a sliding window: counted atomically in Redis, shared by every
process; counted in each process while Redis cannot be reached, so the API keeps serving.

In Redis each caller has a sorted set of the requests it was allowed in the last window
(score: when), and one Lua script trims, counts and adds, so concurrent requests cannot all
read the same count and all get in: at most the limit in any window, and never a whole
window's allowance at once after a quiet spell (there are no fixed minutes to reset).

Without Redis each process allows the limit divided by ``API_THROTTLE_PROCESSES`` (the
number of web processes), counting what it allowed itself, so a caller spread over the
processes stays within its limit. Each process also remembers what it allowed while Redis
answered, so a caller that just spent its window in Redis does not start afresh when Redis
goes, and hands what it allowed alone back to Redis when Redis returns (the same entries,
so adding them twice counts them once). The switch is logged once each way.
"""

from __future__ import annotations

import logging
import math
import re
import secrets
import threading
import time
from collections import deque
from collections.abc import Iterable
from contextlib import suppress
from dataclasses import dataclass, field
from itertools import count
from typing import TYPE_CHECKING, Any

import redis
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

from api.authentication import caller_key

if TYPE_CHECKING:
    from rest_framework.views import APIView

logger = logging.getLogger(__name__)

KEY_PREFIX = "talaan:throttle:"
# How long a failed Redis is left alone before it is asked again: no request waits on a
# connection that is known to be down, and recovery is noticed within this.
REDIS_RETRY_SECONDS = 1.0
REDIS_TIMEOUT_SECONDS = 0.5

# KEYS[1]: the caller's set. ARGV: now (ms), window (ms), limit, this request's entry, then
# (score, entry) pairs this process allowed while Redis was away. Answers {1, 0} when the
# request is counted, else {0, ms until one of the window's entries leaves it}.
_SLIDING_WINDOW = """
local key = KEYS[1]
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
for i = 5, #ARGV, 2 do
  redis.call('ZADD', key, ARGV[i], ARGV[i + 1])
end
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
local counted = redis.call('ZCARD', key)
if counted < limit then
  redis.call('ZADD', key, now, ARGV[4])
  redis.call('PEXPIRE', key, window)
  return {1, 0}
end
redis.call('PEXPIRE', key, window)
local freed = redis.call('ZRANGE', key, counted - limit, counted - limit, 'WITHSCORES')
return {0, tonumber(freed[2]) + window - now}
"""

_UNITS = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "hour": 3600, "d": 86400, "day": 86400}
_RATE = re.compile(r"\s*(\d+)\s*/\s*(\d*)\s*([a-z]+)\s*")


@dataclass(frozen=True)
class Rate:
    requests: int
    window_ms: int


def parse_rate(text: str) -> Rate:
    """``600/min``, ``100/h``, or with a window of several units, ``20/5s``."""
    match = _RATE.fullmatch(text.lower())
    if not match or match[3] not in _UNITS or int(match[1]) < 1:
        raise ImproperlyConfigured(f"Not a rate: {text!r}; write e.g. 600/min or 20/5s.")
    units = int(match[2] or 1)
    return Rate(requests=int(match[1]), window_ms=units * _UNITS[match[3]] * 1000)


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    wait_seconds: float = 0.0


@dataclass
class _Allowed:
    """What this process allowed one caller in the current window (oldest first)."""

    window_ms: int
    entries: deque[tuple[int, str]] = field(default_factory=deque)
    # Whether Redis may lack some of them: allowed here, or Redis was away (and may have
    # restarted empty) since.
    owed_to_redis: bool = False

    def trim(self, now: int) -> None:
        while self.entries and self.entries[0][0] <= now - self.window_ms:
            self.entries.popleft()


class SlidingWindowLimiter:
    """One per process: Redis's count while it answers, this process's share while not."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._allowed: dict[str, _Allowed] = {}
        self._entry_numbers = count()
        self._process = secrets.token_hex(4)
        self._redis_down_since: float | None = None
        self._redis_failed_at: float | None = None
        self._redis: dict[str, tuple[redis.Redis, Any]] = {}
        self._calls = 0

    def admit(self, name: str, rate: Rate) -> Verdict:
        """Count one request of caller ``name`` if its rate allows it now."""
        now = int(time.time() * 1000)
        entry = f"{self._process}:{next(self._entry_numbers)}"
        verdict = self._admit_in_redis(name, rate, now, entry)
        if verdict is None:
            verdict = self._admit_here(name, rate, now, entry)
        elif verdict.allowed:
            with self._guard:
                self._remember(name, rate, now, entry)
        return verdict

    def forget(self, names: Iterable[str]) -> None:
        """Drop the counts of these callers, here and in Redis (for tests)."""
        names = list(names)
        with self._guard:
            for name in names:
                self._allowed.pop(name, None)
        connected = self._connected()
        if connected is not None and names:
            with suppress(redis.RedisError, OSError):  # nothing to forget in a Redis away
                connected[0].delete(*(KEY_PREFIX + name for name in names))

    # Redis ------------------------------------------------------------------------------

    def _connected(self) -> tuple[redis.Redis, Any] | None:
        """The client and the registered script for ``REDIS_URL``; None without Redis."""
        url = settings.REDIS_URL
        if not url:
            return None
        if url not in self._redis:
            client = redis.Redis.from_url(
                url,
                socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
                socket_timeout=REDIS_TIMEOUT_SECONDS,
            )
            self._redis[url] = (client, client.register_script(_SLIDING_WINDOW))
        return self._redis[url]

    def _admit_in_redis(self, name: str, rate: Rate, now: int, entry: str) -> Verdict | None:
        """Redis's verdict, or None when there is no Redis or it does not answer."""
        connected = self._connected()
        if connected is None:
            return None
        failed_at = self._redis_failed_at
        if failed_at is not None and time.monotonic() - failed_at < REDIS_RETRY_SECONDS:
            return None
        hand_back: list[object] = []
        with self._guard:
            known = self._allowed.get(name)
            if known is not None and known.owed_to_redis:
                known.trim(now)
                hand_back = [value for pair in known.entries for value in pair]
        try:
            allowed, wait_ms = connected[1](
                keys=[KEY_PREFIX + name],
                args=[now, rate.window_ms, rate.requests, entry, *hand_back],
            )
        except (redis.RedisError, OSError) as exc:
            self._redis_failed(exc)
            return None
        self._redis_answered()
        if hand_back and known is not None:
            with self._guard:
                known.owed_to_redis = False
        return Verdict(bool(allowed), wait_ms / 1000)

    def _redis_failed(self, exc: Exception) -> None:
        with self._guard:
            self._redis_failed_at = time.monotonic()
            if self._redis_down_since is not None:
                return
            self._redis_down_since = time.time()
            # Redis may come back empty: what each caller was allowed goes back to it then.
            for allowed in self._allowed.values():
                allowed.owed_to_redis = True
        logger.warning(
            "Rate limits are counted in each process until Redis answers again (%s): each "
            "of the API_THROTTLE_PROCESSES=%d processes allows 1/%d of a caller's rate.",
            exc,
            _processes(),
            _processes(),
        )

    def _redis_answered(self) -> None:
        if self._redis_down_since is None:
            return
        with self._guard:
            since, self._redis_down_since = self._redis_down_since, None
            self._redis_failed_at = None
        if since is not None:
            logger.warning(
                "Redis answers again after %.0f s: rate limits are counted there again.",
                time.time() - since,
            )

    # This process -----------------------------------------------------------------------

    def _admit_here(self, name: str, rate: Rate, now: int, entry: str) -> Verdict:
        share = max(1, rate.requests // _processes())
        with self._guard:
            allowed = self._allowed.get(name)
            if allowed is not None:
                allowed.window_ms = rate.window_ms
                allowed.trim(now)
                if len(allowed.entries) >= share:
                    freed = allowed.entries[len(allowed.entries) - share][0]
                    return Verdict(False, (freed + rate.window_ms - now) / 1000)
            self._remember(name, rate, now, entry).owed_to_redis = True
        return Verdict(True)

    def _remember(self, name: str, rate: Rate, now: int, entry: str) -> _Allowed:
        """Keep what this process allowed in the window (called with the guard held)."""
        allowed = self._allowed.setdefault(name, _Allowed(window_ms=rate.window_ms))
        allowed.window_ms = rate.window_ms
        allowed.trim(now)
        allowed.entries.append((now, entry))
        self._calls += 1
        if self._calls % 1000 == 0:
            self._drop_idle(now)
        return allowed

    def _drop_idle(self, now: int) -> None:
        for name in list(self._allowed):
            self._allowed[name].trim(now)
            if not self._allowed[name].entries:
                del self._allowed[name]


def _processes() -> int:
    return max(1, int(settings.API_THROTTLE_PROCESSES))


limiter = SlidingWindowLimiter()


def request_counts_forget(*, scope: str, idents: Iterable[object]) -> None:
    """Start these callers (``scope`` "key" or "user") with nothing counted."""
    limiter.forget(f"{scope}:{ident}" for ident in idents)


class CallerRateThrottle(BaseThrottle):
    """Requests per API key (``API_THROTTLE_KEY``) or per user (``API_THROTTLE_USER``).

    Rates are read per request, never at import time. Anonymous requests are refused by
    authentication before throttling counts them.
    """

    def __init__(self) -> None:
        self.wait_seconds = 0.0

    def allow_request(self, request: Request, view: APIView) -> bool:
        key = caller_key(request)
        if key is not None:
            name, rate = f"key:{key.pk}", settings.API_THROTTLE_KEY
        elif request.user and request.user.is_authenticated:
            name, rate = f"user:{request.user.pk}", settings.API_THROTTLE_USER
        else:
            return True
        verdict = limiter.admit(name, parse_rate(rate))
        self.wait_seconds = verdict.wait_seconds
        return verdict.allowed

    def wait(self) -> float:
        # Whole seconds in Retry-After: round up, so a client that waits is let in.
        return max(1, math.ceil(self.wait_seconds))
