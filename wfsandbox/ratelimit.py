"""The IM server's leaky bucket (``win/liyufan/im/RateLimiter.java``, §2.5), reproduced step for step.

``RateLimiter(10, N)`` holds up to N requests per key and drains N/10 of them per second. Levels are
kept in thousandths of a request, as the Java code does. A refused request still moves the key's
clock forward (after draining), so hammering a full bucket keeps it full.
"""

from __future__ import annotations

import time
from collections.abc import Callable

_IDLE_EXPIRY_MS = 2 * 60 * 60 * 1000


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


class RateLimiter:
    def __init__(self, limit_seconds: int, limit_count: int, *, clock: Callable[[], int] = _now_ms) -> None:
        if limit_seconds <= 0 or limit_count <= 0:
            raise ValueError("limit_seconds and limit_count must be positive")
        self.limit_count = limit_count
        self._capacity = limit_count * 1000
        self._rate = limit_count / limit_seconds  # thousandths drained per millisecond
        self._clock = clock
        self._levels: dict[str, int] = {}
        self._last_seen: dict[str, int] = {}
        self._last_cleanup = 0

    def is_granted(self, key: str) -> bool:
        now = self._clock()
        self._clean_up(now)
        last = self._last_seen.get(key)
        self._last_seen[key] = now
        if last is None:
            self._levels[key] = 1000
            return True
        # Java does `long count -= (now - last) * rate`: the compound assignment truncates toward zero.
        level = max(int(self._levels[key] - (now - last) * self._rate), 0)
        if level < self._capacity:
            self._levels[key] = level + 1000
            return True
        self._levels[key] = level
        return False

    def _clean_up(self, now: int) -> None:
        if now - self._last_cleanup <= _IDLE_EXPIRY_MS:
            return
        for key in [k for k, seen in self._last_seen.items() if seen < now - _IDLE_EXPIRY_MS]:
            del self._last_seen[key]
            del self._levels[key]
        self._last_cleanup = now
