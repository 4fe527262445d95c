"""Posting messages to robot callback URLs the way the server's shared OkHttpClient does (§5.2).

- ``POST <url exactly as stored>``, ``Content-Type: application/json; charset=utf-8``, no signature or
  extra headers, the response ignored;
- at most 5 requests in flight per host and 64 in all; the rest wait in order (aiohttp's connector
  queue, like okhttp's dispatcher queue);
- 10 s to connect and 10 s between reads; time spent queued does not count, as with okhttp;
- no retry: a failure is logged and the message is lost to the robot.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import aiohttp
from yarl import URL

from wfsandbox.body import JsonObject, dumps

logger = logging.getLogger("wfsandbox.callbacks")

PER_HOST_LIMIT = 5
TOTAL_LIMIT = 64
TIMEOUT_SECONDS = 10.0


def redact_url(url: str) -> str:
    """The URL without query or fragment: callback URLs carry tokens (§5.2 advice), logs must not."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<invalid url>"
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


@dataclass(frozen=True)
class CallbackAttempt:
    robot_id: str
    message_id: int
    url: str
    status: int | None
    error: str
    started_ms: int
    duration_ms: int

    def to_json(self) -> JsonObject:
        return {
            "robotId": self.robot_id,
            "messageId": self.message_id,
            "url": self.url,
            "status": self.status,
            "error": self.error,
            "startedAt": self.started_ms,
            "durationMs": self.duration_ms,
        }


class CallbackDispatcher:
    def __init__(self, *, history: int = 500) -> None:
        self._session: aiohttp.ClientSession | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.attempts: deque[CallbackAttempt] = deque(maxlen=history)

    async def start(self) -> None:
        connector = aiohttp.TCPConnector(limit=TOTAL_LIMIT, limit_per_host=PER_HOST_LIMIT)
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=TIMEOUT_SECONDS, sock_read=TIMEOUT_SECONDS)
        self._session = aiohttp.ClientSession(connector=connector, timeout=timeout, auto_decompress=True)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._session is not None:
            await self._session.close()
            self._session = None

    @property
    def pending(self) -> int:
        """Callbacks queued or in flight."""
        return len(self._tasks)

    def post(self, *, robot_id: str, url: str, message: JsonObject) -> None:
        """Queue one callback and return at once; the send API does not wait for it."""
        task = asyncio.get_running_loop().create_task(self._post(robot_id, url, message))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _post(self, robot_id: str, url: str, message: JsonObject) -> None:
        if self._session is None:
            return
        started = time.monotonic()
        started_ms = time.time_ns() // 1_000_000
        status: int | None = None
        error = ""
        try:
            # encoded=True: post to the URL byte for byte as stored, without re-quoting its escapes.
            async with self._session.post(
                URL(url, encoded=True),
                data=dumps(message).encode("utf-8"),
                headers={"Content-Type": "application/json; charset=utf-8"},
            ) as response:
                status = response.status
                await response.read()
        except aiohttp.InvalidURL:
            error = "InvalidURL"  # its text is the URL itself, token included
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        duration_ms = int((time.monotonic() - started) * 1000)
        safe_url = redact_url(url)
        attempt = CallbackAttempt(robot_id, int(message["messageId"]), safe_url, status, error, started_ms, duration_ms)
        self.attempts.append(attempt)
        if error:
            logger.warning("callback to %s for robot %s failed after %d ms: %s", safe_url, robot_id, duration_ms, error)
        else:
            logger.info("callback to %s for robot %s: HTTP %s in %d ms", safe_url, robot_id, status, duration_ms)
