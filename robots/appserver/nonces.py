"""The App Server's record of the nonces it has accepted, in Redis, shared by its processes.

A nonce in this process's memory would be forgotten on a restart and unknown to a second
process, and a captured request could be replayed there while its timestamp is still fresh.
"""

from __future__ import annotations

import redis
import redis.asyncio

KEY_PREFIX = "cs:appserver:nonce:"


class ReplayCheckUnavailable(Exception):
    """The record cannot be read or written: a replay could not be told from a new request."""


class RedisNonceStore:
    def __init__(self, url: str) -> None:
        # Short timeouts: the CS server waits on this answer and retries a 503 itself.
        self._redis = redis.asyncio.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)

    async def claim(self, nonce: str, *, ttl_seconds: int) -> bool:
        """True the first time ``nonce`` is claimed within ``ttl_seconds``; False for a replay."""
        try:
            # SET NX: atomic, so two processes given the same request at once accept it only once.
            return bool(await self._redis.set(KEY_PREFIX + nonce, b"1", nx=True, ex=ttl_seconds))
        except redis.RedisError as exc:
            raise ReplayCheckUnavailable(f"{type(exc).__name__}: {exc}") from exc

    async def close(self) -> None:
        await self._redis.aclose()
