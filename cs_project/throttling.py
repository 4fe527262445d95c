"""Request throttling shared by every web process: the HTTP API (DRF) and the rating form.

Counts live in the Redis cache (``CACHES["default"]``): one counter per client and time window,
incremented with Redis's atomic INCR, so several Daphne processes enforce one limit together.
DRF's own throttles keep a list of timestamps that each process reads and writes back whole; two
processes serving the same client at once would each write their own copy and let requests through.
A window is fixed (the minute, the hour, ...), so a client may spend two windows' worth around the
boundary between them; for a limit against floods that is the price of one round trip to Redis.

The IM server's robot callbacks are never throttled: see ``robots.apis.RobotCallbackApi``.
"""

from __future__ import annotations

import ipaddress
import logging
import math
import time
from typing import TYPE_CHECKING

import redis
from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from rest_framework.settings import api_settings
from rest_framework.throttling import AnonRateThrottle, SimpleRateThrottle, UserRateThrottle

if TYPE_CHECKING:  # rest_framework.views imports this module (DEFAULT_THROTTLE_CLASSES)
    from rest_framework.request import Request
    from rest_framework.views import APIView

logger = logging.getLogger(__name__)

_PERIOD_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def client_address(request: HttpRequest | Request) -> str:
    """The client's address, as the outermost of our ``CS_TRUSTED_PROXY_COUNT`` proxies saw it.

    Each proxy appends the address it was reached from to X-Forwarded-For, so the client is the
    N-th entry from the right; entries further left were written by the client and are ignored.
    Login lockouts (django-axes) use the same function.
    """
    remote = str(request.META.get("REMOTE_ADDR") or "")
    proxies: int = settings.CS_TRUSTED_PROXY_COUNT
    forwarded = [part.strip() for part in str(request.META.get("HTTP_X_FORWARDED_FOR") or "").split(",")]
    forwarded = [part for part in forwarded if part]
    if proxies == 0 or not forwarded:
        return remote
    candidate = forwarded[-min(proxies, len(forwarded))]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote  # not written by a proxy we know: count the request against the proxy


def rate_parse(rate: str) -> tuple[int, int]:
    """``"30/min"`` -> (30, 60): DRF's rate format (the period's first letter: s, m, h or d)."""
    count, _, period = rate.partition("/")
    return int(count), _PERIOD_SECONDS[period[:1]]


def throttle_hit(*, key: str, rate: str) -> int | None:
    """Count one request under ``key``: None while within ``rate``, else the seconds to wait.

    Fails open: a request is let through, with a warning, when Redis cannot count it.
    """
    limit, period = rate_parse(rate)
    now = time.time()
    window = int(now // period)
    window_key = f"{key}:{window}"
    try:
        cache.add(window_key, 0, timeout=period + 1)  # a no-op when the window has begun
        try:
            count = cache.incr(window_key)
        except ValueError:  # the window's key expired between the two calls
            cache.set(window_key, 1, timeout=period + 1)
            count = 1
    except redis.RedisError:
        logger.warning("throttle %s not counted: Redis is unavailable", key.partition(":")[0], exc_info=True)
        return None
    if count <= limit:
        return None
    return max(1, math.ceil((window + 1) * period - now))


def address_throttle_hit(request: HttpRequest, *, scope: str) -> int | None:
    """:func:`throttle_hit` for a plain Django view, per client address, at the scope's rate."""
    rate = str(api_settings.DEFAULT_THROTTLE_RATES[scope])
    return throttle_hit(key=f"throttle_{scope}_{client_address(request)}", rate=rate)


class _SharedCounterThrottle(SimpleRateThrottle):
    """DRF's rate throttle, counted by :func:`throttle_hit` and keyed by :func:`client_address`."""

    wait_seconds: int | None = None

    def get_rate(self) -> str | None:
        # Looked up when the throttle is made (once per request), not when DRF is imported, so
        # changed settings apply.
        try:
            rate = api_settings.DEFAULT_THROTTLE_RATES[self.scope or ""]
        except KeyError:
            return super().get_rate()  # raises ImproperlyConfigured naming the scope
        return None if rate is None else str(rate)

    def get_ident(self, request: Request) -> str:
        return client_address(request)

    def allow_request(self, request: Request, view: APIView) -> bool:
        key = self.get_cache_key(request, view)
        if self.rate is None or key is None:
            return True
        self.wait_seconds = throttle_hit(key=key, rate=self.rate)
        return self.wait_seconds is None

    def wait(self) -> float | None:
        return self.wait_seconds


class AnonAddressThrottle(_SharedCounterThrottle, AnonRateThrottle):
    """Anonymous API requests, per client address (scope ``anon``)."""


class UserAddressThrottle(_SharedCounterThrottle, UserRateThrottle):
    """API requests per login, or per client address when anonymous (scope ``user``)."""
