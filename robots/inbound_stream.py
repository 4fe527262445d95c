"""Stored customer messages, drained by one long-running process (``manage.py inbound_stream``).

    callback: INSERT InboundMessage, commit ──► 200 at once
         │ (trigger, at commit) NOTIFY cs_inbound '<robot>:<sender>'
         ▼
    LISTEN (main thread) ──► the conversation, once ──► a thread of the pool: inbound_drain
                                                         (its own connection; the conversation's
                                                          messages in order, NOWAIT claims)

The rules are ``robots.callbacks.inbound_drain``'s: a conversation's messages one at a time in the
IM server's order, each claimed and acted on in one transaction (a process killed mid-message rolls
its claim back with the flow's writes, and the message is acted on later, once), a failure retried
with a back-off, then FAILED. A conversation is drained by one thread at a time; a notification for a
conversation being drained makes that thread look again when it finishes, so a message committed
just after its last look is not left behind. Every ``CS_INBOUND_STREAM_POLL_SECONDS``, and whenever
the LISTEN connection is (re)opened, the due conversations are read from the table: retries whose
back-off ended, messages stored while no one listened. The Celery inbound sweep stays a safety net.

A process of its own rather than a part of outbox_stream: acting on a message is the flow's
synchronous ORM work (CPU in Python), which would hold the GIL against the deliverer's event loop;
two processes use both cores and restart independently.
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import psycopg
import redis
from django.conf import settings
from django.db import close_old_connections, connection

from cs_project.health import INBOUND_HEARTBEAT_KEY
from robots.callbacks import inbound_drain, inbound_due_conversations
from robots.outbox_stream import conninfo

logger = logging.getLogger(__name__)

CHANNEL = "cs_inbound"  # robots/migrations/0008_inbound_notify.py
RECONNECT_SECONDS = 1.0
STOP_CHECK_SECONDS = 0.5
HEARTBEAT_SECONDS = 10.0
HEARTBEAT_TTL_SECONDS = 45

Conversation = tuple[int, str]


def conversation_from_payload(payload: str) -> Conversation | None:
    """``<robot row id>:<sender>`` as the trigger writes it; None for anything else."""
    robot_pk, sep, sender = payload.partition(":")
    if not sep or not robot_pk.isdigit() or not sender:
        return None
    return int(robot_pk), sender


@dataclass
class InboundStream:
    concurrency: int = field(default_factory=lambda: settings.CS_INBOUND_STREAM_CONCURRENCY)
    poll_seconds: float = field(default_factory=lambda: settings.CS_INBOUND_STREAM_POLL_SECONDS)
    drained_count: int = 0

    def __post_init__(self) -> None:
        self._threads = ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="inbound-drain")
        self._lock = threading.Lock()
        self._draining: set[Conversation] = set()
        self._again: set[Conversation] = set()
        self._idle = threading.Condition(self._lock)

    def run(self, stop: threading.Event) -> None:
        logger.info("inbound stream: draining, up to %d conversations at once", self.concurrency)
        heartbeat = threading.Thread(target=self._heartbeat, args=(stop,), name="inbound-heartbeat", daemon=True)
        heartbeat.start()
        try:
            while not stop.is_set():
                try:
                    self._listen(stop)
                except psycopg.Error as exc:
                    logger.warning("inbound stream: LISTEN connection lost (%s); reconnecting", type(exc).__name__)
                    stop.wait(RECONNECT_SECONDS)
        finally:
            self._threads.shutdown(wait=True)  # the messages under way finish (and commit)
            logger.info("inbound stream: stopped after %d messages", self.drained_count)

    def _heartbeat(self, stop: threading.Event) -> None:
        client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=5, socket_connect_timeout=5)
        while not stop.is_set():
            try:
                client.set(INBOUND_HEARTBEAT_KEY, repr(time.time()), ex=HEARTBEAT_TTL_SECONDS)
            except redis.RedisError as exc:
                logger.warning("inbound stream: could not record its heartbeat (%s)", type(exc).__name__)
            stop.wait(HEARTBEAT_SECONDS)
        client.close()

    def _listen(self, stop: threading.Event) -> None:
        with psycopg.Connection.connect(conninfo(), autocommit=True) as listener:
            listener.execute(f"LISTEN {CHANNEL}")
            self._poll()  # messages may have committed while no one listened
            polled = time.monotonic()
            while not stop.is_set():
                # Back from waiting at least every STOP_CHECK_SECONDS, to stop promptly.
                for notify in listener.notifies(timeout=min(self.poll_seconds, STOP_CHECK_SECONDS)):
                    conversation = conversation_from_payload(notify.payload)
                    if conversation is not None:
                        self.submit(conversation)
                    if stop.is_set():
                        break
                if time.monotonic() - polled >= self.poll_seconds:
                    self._poll()
                    polled = time.monotonic()

    def _poll(self) -> None:
        try:
            due = inbound_due_conversations(settled_seconds=0)
        except Exception:
            logger.exception("inbound stream: could not read the due conversations; trying again shortly")
            close_old_connections()
            return
        finally:
            connection.close()  # the main thread's connection goes back to the pool between polls
        for conversation in due:
            self.submit(conversation)

    def submit(self, conversation: Conversation) -> None:
        """Drain ``conversation`` in a thread of the pool; once, however often it is named."""
        with self._lock:
            if conversation in self._draining:
                self._again.add(conversation)
                return
            self._draining.add(conversation)
        self._threads.submit(self._drain, conversation)

    def _drain(self, conversation: Conversation) -> None:
        try:
            self._drain_until_done(conversation)
        finally:
            # Back to the process's pool: a pool thread that ends (or idles) holding its connection
            # would keep it checked out for good, and the pool runs dry (seen in the test process).
            connection.close()

    def _drain_until_done(self, conversation: Conversation) -> None:
        robot_pk, sender = conversation
        while True:
            try:
                handled = inbound_drain(robot_pk=robot_pk, sender=sender)
            except Exception:
                # The claim's own statement failed (e.g. the connection): the message stays
                # pending, and the next poll (or the sweep) names its conversation again.
                logger.exception("inbound stream: could not drain the messages of %s", sender)
                close_old_connections()
                handled = 0
            with self._lock:
                self.drained_count += handled
                if conversation in self._again:
                    self._again.discard(conversation)
                    continue
                self._draining.discard(conversation)
                if not self._draining:
                    self._idle.notify_all()
                return

    def wait_idle(self, timeout: float) -> bool:
        """True once no conversation is being drained (for tests)."""
        with self._idle:
            return self._idle.wait_for(lambda: not self._draining, timeout=timeout)
