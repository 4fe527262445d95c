"""The IM server's per-robot rate limit, kept on the client side in Redis so every worker shares it.

The IM server refuses a robot's request with code 250 when that robot's leaky bucket is full:
``RateLimiter(10 s, N)`` with N = ``http.robot.rate_limit``, bursts of N drained at N/10 per second
(wildfire-protocol.md §2.5, ``wfsandbox/ratelimit.py``). Asking this limiter before each send paces a
burst instead of provoking refusals. Per robot, one Lua script call, atomic across processes:

1. The bucket ``cs:robot-rate:{<robot id>}`` holds a level (requests, fractional) and when it was last
   updated, in Redis's clock: the one clock all workers share, whatever their own skew.
2. The level drains by N/10 per second. A request that fits under N is added: "go now" (0 s).
3. One that does not fit is added too, as a reservation for its ticket, due when the level will have
   drained enough: "wait N seconds". Asking again with the same ticket takes no second slot; once due
   it is "go now". So many waiting senders get distinct slots instead of all retrying at once.
4. When the IM server refuses anyway (another client of the same robot, a lower limit there, network
   jitter), ``server_refused`` marks the bucket full and reserves the next slot for the ticket: every
   worker then paces that robot as the server does.

Reservations whose sender never came back are forgotten after ``RESERVATION_GRACE_SECONDS``; keys
expire once the bucket has drained, so idle robots leave nothing behind. No Django imports: the
settings are passed in by the caller (``robots.outbox``).
"""

from __future__ import annotations

import redis
import redis.asyncio

WINDOW_SECONDS = 10  # RateLimiter(10 s, N) on the IM server
RESERVATION_GRACE_SECONDS = 120
# What a refusal costs when the client-side limit is off: the fixed pause of the IM-side-only design.
UNLIMITED_REFUSAL_WAIT_SECONDS = 1.0

# KEYS: bucket, reservations. ARGV: capacity (requests), drain per ms, ticket, mode ("take" or
# "refused"), grace (ms). Returns the seconds to wait as a string (Lua numbers become integers).
_SCRIPT = """
local bucket, reservations = KEYS[1], KEYS[2]
local capacity, per_ms, ticket, mode = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3], ARGV[4]
local grace_ms = tonumber(ARGV[5])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + tonumber(clock[2]) / 1000
local state = redis.call('HMGET', bucket, 'level', 'at')
local level = tonumber(state[1]) or 0
local at = tonumber(state[2]) or now
if now > at then
  level = math.max(level - (now - at) * per_ms, 0)
end
redis.call('ZREMRANGEBYSCORE', reservations, '-inf', now - grace_ms)
local wait_ms = 0
local due = redis.call('ZSCORE', reservations, ticket)
if mode == 'take' and due then
  due = tonumber(due)
  if due > now then
    wait_ms = due - now
  else
    redis.call('ZREM', reservations, ticket)
  end
else
  if due then
    redis.call('ZREM', reservations, ticket)
  end
  if mode == 'refused' then
    level = math.max(level, capacity)
  end
  level = level + 1
  if level > capacity then
    wait_ms = (level - capacity) / per_ms
    redis.call('ZADD', reservations, string.format('%.3f', now + wait_ms), ticket)
  end
end
redis.call('HSET', bucket, 'level', string.format('%.6f', level), 'at', string.format('%.3f', now))
local ttl_ms = math.ceil(level / per_ms) + grace_ms
redis.call('PEXPIRE', bucket, ttl_ms)
redis.call('PEXPIRE', reservations, ttl_ms)
return string.format('%.6f', wait_ms / 1000)
"""


class _Limiter:
    def __init__(self, *, limit: int, key_prefix: str) -> None:
        if limit < 0:
            raise ValueError("limit must be 0 (no limit) or a positive number of requests per 10 s")
        self.limit = limit
        self._key_prefix = key_prefix

    def _script_call(self, robot_id: str, ticket: str, mode: str) -> tuple[list[str], list[str | int]]:
        # The hash tag keeps both keys of a robot in one slot, as Redis Cluster needs for a script.
        bucket = f"{self._key_prefix}{{{robot_id}}}"
        per_ms = self.limit / (WINDOW_SECONDS * 1000)
        return [bucket, f"{bucket}:reserved"], [
            self.limit,
            repr(per_ms),
            ticket,
            mode,
            RESERVATION_GRACE_SECONDS * 1000,
        ]


def _seconds(answer: bytes | str) -> float:
    return float(answer.decode() if isinstance(answer, bytes) else answer)


class RobotRateLimiter(_Limiter):
    """Answers "go now" (0.0) or "wait N seconds" for one request of a robot; ``limit`` 0: no limit."""

    def __init__(self, client: redis.Redis, *, limit: int, key_prefix: str = "cs:robot-rate:") -> None:
        super().__init__(limit=limit, key_prefix=key_prefix)
        self._script = client.register_script(_SCRIPT)

    def acquire(self, *, robot_id: str, ticket: str) -> float:
        """Seconds until this request may be sent, 0.0 meaning now. A wait reserves a slot for
        ``ticket`` (e.g. the outbox row): ask again with the same ticket when it is due."""
        return self._call(robot_id, ticket, "take")

    def server_refused(self, *, robot_id: str, ticket: str) -> float:
        """The IM server answered code 250 to this robot: its bucket is full. Returns the wait
        before ``ticket`` may try again (its slot is reserved)."""
        if self.limit == 0:
            return UNLIMITED_REFUSAL_WAIT_SECONDS
        return self._call(robot_id, ticket, "refused")

    def _call(self, robot_id: str, ticket: str, mode: str) -> float:
        if self.limit == 0:
            return 0.0
        keys, args = self._script_call(robot_id, ticket, mode)
        return _seconds(self._script(keys=keys, args=args))


class AsyncRobotRateLimiter(_Limiter):
    """The same limiter (same keys, same script) for an asyncio deliverer."""

    def __init__(self, client: redis.asyncio.Redis, *, limit: int, key_prefix: str = "cs:robot-rate:") -> None:
        super().__init__(limit=limit, key_prefix=key_prefix)
        self._script = client.register_script(_SCRIPT)

    async def acquire(self, *, robot_id: str, ticket: str) -> float:
        return await self._call(robot_id, ticket, "take")

    async def server_refused(self, *, robot_id: str, ticket: str) -> float:
        if self.limit == 0:
            return UNLIMITED_REFUSAL_WAIT_SECONDS
        return await self._call(robot_id, ticket, "refused")

    async def _call(self, robot_id: str, ticket: str, mode: str) -> float:
        if self.limit == 0:
            return 0.0
        keys, args = self._script_call(robot_id, ticket, mode)
        return _seconds(await self._script(keys=keys, args=args))
