"""Message ids like the server's ``MessageShardingUtil``: 64-bit, time-ordered, far above 2^53 (§5.3)."""

from __future__ import annotations

import time

# Milliseconds since 2015-01-01 shifted left 22 bits gives ids around 2^60 today (2^53 is 9.0e15,
# these are 1.4e18), so a client that parses them as doubles is caught at once; 2^63 is reached in 2085.
_EPOCH_MS = 1_420_070_400_000
_NODE_ID = 1


class MessageIdGenerator:
    def __init__(self, *, floor: int = 0) -> None:
        """``floor``: the largest id already used (from the database), so ids keep growing across restarts."""
        self._last = floor

    def next_id(self, now_ms: int | None = None) -> int:
        now = time.time_ns() // 1_000_000 if now_ms is None else now_ms
        candidate = ((now - _EPOCH_MS) << 22) | (_NODE_ID << 12)
        self._last = max(candidate, self._last + 1)
        return self._last
