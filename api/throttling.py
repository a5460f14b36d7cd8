"""Requests per caller, counted in the shared cache."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

from api.authentication import caller_key

if TYPE_CHECKING:
    from rest_framework.views import APIView


class CallerRateThrottle(SimpleRateThrottle):
    """Requests per API key (``API_THROTTLE_KEY``) or per user (``API_THROTTLE_USER``).

    Counts live in the default cache (Redis when ``REDIS_URL`` is set), so every process
    shares them. Rates are read per request, never at import time. Anonymous requests are
    refused by authentication before throttling counts them.
    """

    def __init__(self) -> None:
        # SimpleRateThrottle reads one rate here; ours depends on the caller.
        pass

    def allow_request(self, request: Request, view: APIView) -> bool:
        key = caller_key(request)
        if key is not None:
            self.scope, self.rate, ident = "key", settings.API_THROTTLE_KEY, key.pk
        elif request.user and request.user.is_authenticated:
            self.scope, self.rate, ident = "user", settings.API_THROTTLE_USER, request.user.pk
        else:
            return True
        self.num_requests, self.duration = self.parse_rate(self.rate)
        self.ident = ident
        return super().allow_request(request, view)

    def get_cache_key(self, request: Request, view: APIView) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.ident}
