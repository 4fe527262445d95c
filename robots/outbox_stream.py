"""The outbox, streamed: one long-running asyncio deliverer per host (``manage.py outbox_stream``).

    NOTIFY cs_outbox ──► wake ──► claim due heads (1 statement, up to the free slots)
         ▲                              │ one task per row, many conversations at once
    commit of rows                      ▼
                                pace (Redis limiter) ──► POST /robot/message/send (keep-alive pool)
                                        │
                      mark sent (1 statement per batch) ──► the key's next row is due ──► wake

The rules are the outbox's (robots/outbox.py): a key's head only, under a lease, so conversations
stay in order and two deliverers never send one row; a paced row waits for its reserved slot; a
transient failure backs off, a permanent one fails the row visibly. Database work runs in one
thread of its own (Django's ORM is synchronous); everything that waits on the network runs on the
event loop. Woken by PostgreSQL's NOTIFY (the table's trigger, at commit) and, as a safety net for
back-offs that end and lost notifications, every ``CS_OUTBOX_STREAM_POLL_SECONDS``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from typing import TypeVar

import aiohttp
import psycopg
import redis
import redis.asyncio
from django.conf import settings
from django.db import close_old_connections, connection

from cs_project.health import OUTBOX_HEARTBEAT_KEY
from robots.models import OutboundMessage, Robot
from robots.outbox import (
    AUTH_RETRY_SECONDS,
    outbox_auth_refused,
    outbox_backoff,
    outbox_befriend,
    outbox_claim_due,
    outbox_conversation,
    outbox_defer,
    outbox_lease_left_for_a_send,
    outbox_mark_failed_attempt,
    outbox_mark_sent,
    outbox_payload,
    outbox_release,
    outbox_robot_refused,
    outbox_sender,
    outbox_ticket,
)
from robots.ratelimit import UNLIMITED_REFUSAL_WAIT_SECONDS, AsyncRobotRateLimiter
from robots.wfprotocol import AsyncRobotSender, WfcError, WfcOutcomeUnknown, WfcRateLimited, WfcTransportError

logger = logging.getLogger(__name__)

T = TypeVar("T")

CHANNEL = "cs_outbox"  # robots/migrations/0006_outbox_notify.py
ROBOT_CACHE_SECONDS = 60.0
ROBOT_CACHE_SIZE = 10_000  # expired entries are dropped when the cache grows past this
HEARTBEAT_SECONDS = 10.0
HEARTBEAT_TTL_SECONDS = 45


@dataclass
class _Known:
    robot: Robot
    until: float


@dataclass
class OutboxStream:
    concurrency: int = field(default_factory=lambda: settings.CS_OUTBOX_STREAM_CONCURRENCY)
    poll_seconds: float = field(default_factory=lambda: settings.CS_OUTBOX_STREAM_POLL_SECONDS)
    in_flight: dict[int, asyncio.Task[None]] = field(default_factory=dict)
    sent_count: int = 0

    def __post_init__(self) -> None:
        self._wake = asyncio.Event()
        self._db_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="outbox-db")
        # Calls to the IM admin API (provisioning a shadow, a friendship) take their own threads, so
        # a slow admin API never holds up the claims and marks of the database thread.
        self._admin_threads = ThreadPoolExecutor(max_workers=4, thread_name_prefix="outbox-admin")
        self._robots: dict[tuple[str, str], _Known] = {}
        self._to_mark: list[tuple[OutboundMessage, int, asyncio.Future[None]]] = []
        self._marking: asyncio.Task[None] | None = None
        self._redis = redis.asyncio.Redis.from_url(settings.REDIS_URL, socket_timeout=5, socket_connect_timeout=5)
        self._limiter = AsyncRobotRateLimiter(self._redis, limit=settings.WFC_ROBOT_RATE_LIMIT)
        # Pacing waits up to this long holding the lease; a longer one goes back to the table.
        self._max_inline_wait = min(5.0, settings.CS_OUTBOX_LEASE_SECONDS / 4)
        # A send went out and got no answer (WfcOutcomeUnknown): the server may be paused with it
        # queued. Nothing is sent (nor sent again) until the server answers something, here a
        # probe signed by this robot; sending meanwhile would only queue copies behind the first.
        self._unanswered: Robot | None = None

    async def run(self, stop: asyncio.Event) -> None:
        # A paused server (a GC pause, an overload) is waited for up to WFC_SEND_TIMEOUT_SECONDS:
        # its answer then comes, and the message has been sent once.
        timeout = (settings.WFC_TIMEOUT_SECONDS, settings.WFC_SEND_TIMEOUT_SECONDS)
        connector = aiohttp.TCPConnector(limit=self.concurrency + 1, keepalive_timeout=30)  # + the probe
        async with aiohttp.ClientSession(connector=connector) as http:
            self._sender = AsyncRobotSender(settings.WFC_ROBOT_API_URL, session=http, timeout=timeout)
            helpers = [asyncio.create_task(self._listen(stop)), asyncio.create_task(self._heartbeat(stop))]
            logger.info("outbox stream: delivering, up to %d messages in flight", self.concurrency)
            try:
                await self._claim_loop(stop)
            finally:
                for helper in helpers:
                    helper.cancel()
                await self._finish_in_flight()
                if self._marking is not None:
                    await asyncio.wait([self._marking], timeout=10)  # what was sent gets marked
                await self._redis.aclose()
                await self._db(_close_connection)
                self._db_thread.shutdown(wait=True)
                self._admin_threads.shutdown(wait=True)
        logger.info("outbox stream: stopped after %d messages", self.sent_count)

    # -- the database thread -------------------------------------------------------------------

    async def _db(self, function: Callable[..., T], *args: object) -> T:
        return await self._in_thread(self._db_thread, function, *args, keep_connection=True)

    async def _admin(self, function: Callable[..., T], *args: object) -> T:
        return await self._in_thread(self._admin_threads, function, *args, keep_connection=False)

    @staticmethod
    async def _in_thread(
        threads: ThreadPoolExecutor, function: Callable[..., T], *args: object, keep_connection: bool
    ) -> T:
        """``function`` in one of ``threads``. The database thread keeps its connection; the admin
        threads, used now and then, give theirs back to the pool after each call."""

        def call() -> T:
            try:
                return function(*args)
            except Exception:
                close_old_connections()  # a broken connection is replaced on the next call
                raise
            finally:
                if not keep_connection:
                    connection.close()

        return await asyncio.get_running_loop().run_in_executor(threads, call)

    # -- claiming ------------------------------------------------------------------------------

    async def _claim_loop(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            self._wake.clear()
            if self._unanswered is not None and not await self._server_answers(self._unanswered):
                await _wait_any(stop, timeout=1.0)
                continue
            free = self.concurrency - len(self.in_flight)
            if free > 0:
                try:
                    rows = await self._db(partial(outbox_claim_due, limit=free))
                except Exception:
                    logger.exception("outbox stream: could not claim due messages; trying again shortly")
                    rows = []
                    await _wait_any(stop, timeout=1.0)
                for row in rows:
                    if row.pk in self.in_flight:
                        continue  # its lease ran out while this process still sends it: one send only
                    self.in_flight[row.pk] = asyncio.create_task(self._deliver(row), name=f"outbox-{row.pk}")
            await _wait_any(stop, self._wake, timeout=self.poll_seconds)

    async def _server_answers(self, robot: Robot) -> bool:
        """Probe a server that left a send unanswered; True (and sending resumes) once it answers."""
        try:
            await self._sender.profile(robot_id=robot.robot_id, secret=robot.secret)
        except WfcError as exc:
            if isinstance(exc, WfcTransportError):  # no answer (WfcOutcomeUnknown among them)
                logger.warning("outbox stream: the IM server still does not answer (%s); holding sends", exc)
                return False
            # Any answer, even a refusal, is an answer: the server is no longer paused.
        if self._unanswered is not None:
            logger.warning("outbox stream: the IM server answers again; sending resumes")
        self._unanswered = None
        return True

    def _wake_in(self, seconds: float) -> None:
        asyncio.get_running_loop().call_later(max(seconds, 0.0), self._wake.set)

    async def _listen(self, stop: asyncio.Event) -> None:
        """LISTEN on the outbox's channel; any notification wakes the claim loop."""
        while not stop.is_set():
            try:
                async with await psycopg.AsyncConnection.connect(conninfo(), autocommit=True) as listener:
                    await listener.execute(f"LISTEN {CHANNEL}")
                    self._wake.set()  # rows may have committed while no one listened
                    async for _notify in listener.notifies():
                        self._wake.set()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - the poll keeps delivering; say why and reconnect
                logger.warning("outbox stream: LISTEN connection lost (%s); reconnecting", type(exc).__name__)
                await _wait_any(stop, timeout=1.0)

    async def _heartbeat(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self._redis.set(OUTBOX_HEARTBEAT_KEY, repr(time.time()), ex=HEARTBEAT_TTL_SECONDS)
            except redis.RedisError as exc:
                logger.warning("outbox stream: could not record its heartbeat (%s)", type(exc).__name__)
            await _wait_any(stop, timeout=HEARTBEAT_SECONDS)

    # -- one row -------------------------------------------------------------------------------

    async def _deliver(self, row: OutboundMessage) -> None:
        robot: Robot | None = None
        try:
            robot = await self._robot(row)
            wait = await self._pace(robot, row)
            if wait > 0:
                await self._db(outbox_defer, row, wait)
                self._wake_in(wait)
                return
            if row.befriend_first:
                await self._admin(outbox_befriend, row, robot)
            if not outbox_lease_left_for_a_send(row):
                logger.warning("outbox %s: its claim would run out during the send; given back", row)
                await self._db(outbox_release, row)
                self._wake.set()
                return
            result = await self._sender.send_message(
                robot_id=robot.robot_id,
                secret=robot.secret,
                conv=outbox_conversation(row),
                payload=outbox_payload(row),
            )
        except WfcError as exc:
            await self._failed(row, robot, exc)
        except Exception as exc:
            logger.exception("outbox %s: unexpected error while sending", row)
            await self._record_failure(row, exc, retry_in=outbox_backoff(row.attempts + 1))
        else:
            self._unanswered = None  # the server answers
            try:
                await self._mark_sent(row, result.message_uid)
            except Exception:
                # Sent, not marked: its lease expires and it is sent again (at least once, never lost).
                logger.exception("outbox %s: sent as IM message %s but not marked sent", row, result.message_uid)
            else:
                self.sent_count += 1
        finally:
            self.in_flight.pop(row.pk, None)
            self._wake.set()

    async def _robot(self, row: OutboundMessage) -> Robot:
        key = (row.sender_kind, row.shadow_of)
        known = self._robots.get(key)
        now = time.monotonic()
        if known is not None and known.until > now:
            return known.robot
        robot = await self._admin(outbox_sender, row)  # a shadow may be provisioned: admin API calls
        if len(self._robots) > ROBOT_CACHE_SIZE:
            self._robots = {k: v for k, v in self._robots.items() if v.until > now}
        self._robots[key] = _Known(robot, now + ROBOT_CACHE_SECONDS)
        return robot

    async def _pace(self, robot: Robot, row: OutboundMessage) -> float:
        """0 when the row may go now; a short wait is waited here, a long one returned."""
        while True:
            try:
                wait = await self._limiter.acquire(robot_id=robot.robot_id, ticket=outbox_ticket(row))
            except redis.RedisError as exc:
                logger.warning("outbox %s: rate limiter unavailable (%s), sending unpaced", row, exc)
                return 0.0
            if wait <= 0 or wait > self._max_inline_wait:
                return wait
            await asyncio.sleep(wait)

    async def _failed(self, row: OutboundMessage, robot: Robot | None, exc: WfcError) -> None:
        if isinstance(exc, WfcOutcomeUnknown) and robot is not None:
            if self._unanswered is None:
                logger.warning("outbox %s: sent, no answer (%s); holding sends until the IM server answers", row, exc)
            self._unanswered = robot
        if outbox_auth_refused(exc):
            self._robots.clear()
            if row.attempts == 0:
                await self._record_failure(row, exc, retry_in=AUTH_RETRY_SECONDS)
                return
        if not exc.retryable:
            await self._record_failure(row, exc, retry_in=None)
            return
        if robot is not None and outbox_robot_refused(robot, exc):
            try:
                delay = await self._limiter.server_refused(robot_id=robot.robot_id, ticket=outbox_ticket(row))
            except redis.RedisError:
                delay = UNLIMITED_REFUSAL_WAIT_SECONDS
        elif isinstance(exc, WfcRateLimited):
            delay = UNLIMITED_REFUSAL_WAIT_SECONDS
        else:
            delay = outbox_backoff(row.attempts + 1)
        await self._record_failure(row, exc, retry_in=delay, counted=not isinstance(exc, WfcRateLimited))

    async def _record_failure(
        self, row: OutboundMessage, exc: BaseException, *, retry_in: float | None, counted: bool = True
    ) -> None:
        try:
            await self._db(partial(outbox_mark_failed_attempt, row, exc, retry_in=retry_in, counted=counted))
        except Exception:
            logger.exception("outbox %s: could not record the failed attempt; its lease will expire", row)
            return
        if retry_in is not None:
            self._wake_in(retry_in)

    # -- marking sent, a batch at a time --------------------------------------------------------

    async def _mark_sent(self, row: OutboundMessage, message_uid: int) -> None:
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._to_mark.append((row, message_uid, done))
        if self._marking is None or self._marking.done():
            self._marking = asyncio.create_task(self._mark_batches())
        await done

    async def _mark_batches(self) -> None:
        while self._to_mark:
            batch, self._to_mark = self._to_mark, []
            try:
                await self._db(outbox_mark_sent, [(row, uid) for row, uid, _done in batch])
            except Exception as exc:
                # Sent but not marked: the leases expire and the rows are sent again (at least once).
                logger.exception("outbox stream: %d messages sent but not marked sent", len(batch))
                for _row, _uid, done in batch:
                    if not done.done():  # a sender cancelled at shutdown no longer waits
                        done.set_exception(exc)
            else:
                for _row, _uid, done in batch:
                    if not done.done():
                        done.set_result(None)

    async def _finish_in_flight(self) -> None:
        """On stop: let the sends under way finish (their rows are then marked); the rest keep
        their lease until it expires, and the next deliverer takes them."""
        if self.in_flight:
            bound = settings.WFC_TIMEOUT_SECONDS + settings.WFC_SEND_TIMEOUT_SECONDS + 2
            _done, pending = await asyncio.wait(self.in_flight.values(), timeout=bound)
            for task in pending:
                task.cancel()


async def _wait_any(*events_or_stop: asyncio.Event, timeout: float) -> None:
    waits = [asyncio.create_task(event.wait()) for event in events_or_stop]
    try:
        await asyncio.wait(waits, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for wait in waits:
            wait.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(*waits, return_exceptions=True)


def _close_connection() -> None:
    connection.close()  # looked up in the calling thread: the database thread's own connection


def conninfo() -> str:
    """The default database's connection, for the LISTEN connection (psycopg, outside the ORM)."""
    db = settings.DATABASES["default"]
    params = {
        "dbname": db["NAME"],
        "user": db.get("USER") or None,
        "password": db.get("PASSWORD") or None,
        "host": db.get("HOST") or None,
        "port": db.get("PORT") or None,
        **{key: value for key, value in (db.get("OPTIONS") or {}).items() if isinstance(value, str | int)},
    }
    return psycopg.conninfo.make_conninfo(**{key: value for key, value in params.items() if value is not None})
