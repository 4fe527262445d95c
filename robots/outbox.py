"""The outbox: messages to the IM server, written in the transaction that decided to send them.

Delivery (Celery, ``robots.tasks``) is strictly ordered per ``ordering_key`` (one IM
conversation): only the oldest pending row of a key may be claimed, through a conditional
UPDATE of its lease, so two workers never send the same row concurrently and never overtake
each other. A transient failure (IM server down, rate limited) leaves the row pending with a
back-off and stops the key; a permanent one (the user no longer exists) marks it failed, visibly,
and the key moves on. Each send first asks the sending robot's rate limiter (``robots.ratelimit``),
shared by all workers, so a burst is paced to the IM server's ``http.robot.rate_limit``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from contextvars import ContextVar
from datetime import timedelta
from functools import cache, partial

import redis
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from cs_project.task_queue import task_enqueue
from robots.handlers import flow_handlers
from robots.im import robot_client
from robots.models import OutboundMessage, Robot
from robots.ratelimit import UNLIMITED_REFUSAL_WAIT_SECONDS, RobotRateLimiter
from robots.services import cs_robot_get, friendship_ensure, shadow_ensure
from robots.wfprotocol import Conversation, MessagePayload, WfcError, WfcRateLimited

logger = logging.getLogger(__name__)


def outbox_enqueue(
    *,
    sender_kind: OutboundMessage.SenderKind,
    target_user_id: str,
    payload: MessagePayload,
    line: int = 0,
    shadow_of: str = "",
    reference: int | None = None,
    befriend_first: bool = False,
) -> OutboundMessage:
    """Write one message to the outbox; its delivery is scheduled when the transaction commits.

    A shadow send names the IM user whose shadow speaks (``shadow_of``); ``reference`` is the
    caller's id for what is sent, handed back with the IM message id once it is (robots.handlers).
    """
    if sender_kind == OutboundMessage.SenderKind.SHADOW and not shadow_of:
        raise ValueError("a shadow send needs the IM user whose shadow speaks")
    speaker = "cs" if sender_kind == OutboundMessage.SenderKind.CS_ROBOT else f"shadow:{shadow_of}"
    row = OutboundMessage.objects.create(
        ordering_key=f"{speaker}>{target_user_id}:{line}",
        sender_kind=sender_kind,
        shadow_of=shadow_of if sender_kind == OutboundMessage.SenderKind.SHADOW else "",
        target_user_id=target_user_id,
        conv_line=line,
        payload=payload.to_wire(),
        reference=reference,
        befriend_first=befriend_first,
    )
    key = row.ordering_key
    transaction.on_commit(lambda: _scheduled_on_commit(key))
    return row


# Set by outbox_batched_scheduling: the keys committed inside it, scheduled when it ends.
_batched_keys: ContextVar[dict[str, None] | None] = ContextVar("outbox_batched_keys", default=None)
BATCH_KEYS_PER_TASK = 50


@contextmanager
def outbox_batched_scheduling() -> Iterator[None]:
    """Inside this block, rows committed to the outbox are scheduled when it ends, one Celery task
    per ``BATCH_KEYS_PER_TASK`` conversations, instead of one task per row as they commit: for
    sweeps that write thousands of rows, where publishing a task per row would cost more than
    the rows. A key whose task is lost (a broker failure) is picked up by the outbox sweep."""
    keys: dict[str, None] = {}
    token = _batched_keys.set(keys)
    try:
        yield
    finally:
        _batched_keys.reset(token)
        ordered = list(keys)
        for start in range(0, len(ordered), BATCH_KEYS_PER_TASK):
            _schedule_many(ordered[start : start + BATCH_KEYS_PER_TASK])


def _scheduled_on_commit(key: str) -> None:
    batched = _batched_keys.get()
    if batched is None:
        _schedule(key)
    else:
        batched[key] = None


def _schedule_many(keys: list[str]) -> None:
    try:
        task_enqueue("robots.tasks.outbox_deliver_many", keys)
    except Exception:
        logger.exception("could not schedule %d outbox keys; the outbox sweep will", len(keys))


def _schedule(key: str, countdown: float = 0) -> None:
    task_enqueue("robots.tasks.outbox_deliver", key, countdown=countdown)


def _claim_head(key: str) -> OutboundMessage | None:
    """Claim the oldest pending row of a key, or None if it is not due or someone else has it.

    One statement: the conditions are re-checked on the row's latest version under its lock
    (PostgreSQL re-evaluates an UPDATE's WHERE after waiting), so of two workers only one claims it.
    """
    now = timezone.now()
    lease = now + timedelta(seconds=settings.CS_OUTBOX_LEASE_SECONDS)
    pending = OutboundMessage.State.PENDING
    claimed = list(OutboundMessage.objects.raw(_CLAIM_HEAD, [lease, key, pending, pending, now, now]))
    return claimed[0] if claimed else None


_CLAIM_HEAD = f"""
UPDATE {OutboundMessage._meta.db_table} SET lease_until = %s
 WHERE id = (SELECT id FROM {OutboundMessage._meta.db_table}
              WHERE ordering_key = %s AND state = %s ORDER BY id LIMIT 1)
   AND state = %s AND next_attempt_at <= %s AND (lease_until IS NULL OR lease_until < %s)
RETURNING *
"""  # noqa: S608 - the table name is ours; every value is a parameter


@cache
def _redis(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)


def rate_limiter() -> RobotRateLimiter:
    """The per-robot limiter at ``WFC_ROBOT_RATE_LIMIT``, on the project's Redis."""
    return RobotRateLimiter(_redis(settings.REDIS_URL), limit=settings.WFC_ROBOT_RATE_LIMIT)


def _sender(row: OutboundMessage) -> Robot:
    if row.sender_kind == OutboundMessage.SenderKind.SHADOW:
        if not row.shadow_of:
            raise ValueError(f"outbox row {row.pk}: a shadow send that names no IM user")
        return shadow_ensure(user_im_id=row.shadow_of)
    return cs_robot_get()


def _send(row: OutboundMessage, robot: Robot) -> tuple[int, int]:
    if row.befriend_first and row.sender_kind == OutboundMessage.SenderKind.SHADOW:
        friendship_ensure(robot=robot, user_im_id=row.target_user_id)
    result = robot_client(robot).send_message(
        Conversation(type=0, target=row.target_user_id, line=row.conv_line), MessagePayload.from_wire(row.payload)
    )
    return result.message_uid, result.timestamp


def _ticket(row: OutboundMessage) -> str:
    return f"outbox:{row.pk}"


def _rate_wait(limiter: RobotRateLimiter, robot: Robot, row: OutboundMessage) -> float:
    try:
        return limiter.acquire(robot_id=robot.robot_id, ticket=_ticket(row))
    except redis.RedisError as exc:
        # The IM server enforces its limit anyway and a 250 is retried: without Redis, send unpaced.
        logger.warning("outbox %s: rate limiter unavailable (%s), sending unpaced", row, exc)
        return 0.0


def _refusal_wait(limiter: RobotRateLimiter, robot: Robot | None, row: OutboundMessage, exc: WfcError) -> float:
    if robot is None or not exc.path.startswith("/robot/"):
        # The admin API's single global bucket (shadow creation, friendships) is not ours to model.
        return UNLIMITED_REFUSAL_WAIT_SECONDS
    try:
        return limiter.server_refused(robot_id=robot.robot_id, ticket=_ticket(row))
    except redis.RedisError:
        return UNLIMITED_REFUSAL_WAIT_SECONDS


def _defer(row: OutboundMessage, delay: float) -> None:
    """Leave the row pending, due after ``delay``, without counting an attempt: nothing failed."""
    OutboundMessage.objects.filter(pk=row.pk).update(
        lease_until=None, next_attempt_at=timezone.now() + timedelta(seconds=delay)
    )


def outbox_deliver_key(*, key: str) -> float | None:
    """Deliver a key's due rows in order. Returns seconds until a retry is due, or None.

    1. Claim the key's head row (its lease keeps other workers off it).
    2. Ask the sending robot's rate limiter. "Wait": the row stays pending, due after the wait,
       no attempt counted, and the key stops here; the caller re-schedules it.
    3. Send. Code 250 from the robot API (the IM server's bucket was full after all) means slow down
       and retry, never failure: the limiter learns the bucket is full, so every worker paces that
       robot, and the row waits for its reserved slot.
    4. Any other transient failure backs off exponentially; a permanent one fails the row, and the
       key moves on to its next row.
    """
    limiter = rate_limiter()
    while (row := _claim_head(key)) is not None:
        robot: Robot | None = None
        try:
            robot = _sender(row)
            wait = _rate_wait(limiter, robot, row)
            if wait > 0:
                _defer(row, wait)
                logger.debug("outbox %s: paced, %.3fs until %s may send", row, wait, robot.robot_id)
                return wait
            message_uid, _timestamp = _send(row, robot)
        except WfcError as exc:
            row.attempts += 1
            row.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            row.lease_until = None
            if exc.retryable:
                if isinstance(exc, WfcRateLimited):
                    delay = _refusal_wait(limiter, robot, row, exc)
                else:
                    delay = min(2.0**row.attempts, settings.CS_OUTBOX_MAX_BACKOFF_SECONDS)
                row.next_attempt_at = timezone.now() + timedelta(seconds=delay)
                row.save(update_fields=["attempts", "last_error", "lease_until", "next_attempt_at"])
                logger.warning("outbox %s: retry in %.3fs after %s", row, delay, type(exc).__name__)
                return delay
            row.state = OutboundMessage.State.FAILED
            row.save(update_fields=["attempts", "last_error", "lease_until", "state"])
            logger.error("outbox %s failed for good: %s", row, row.last_error)
            continue
        OutboundMessage.objects.filter(pk=row.pk).update(
            state=OutboundMessage.State.SENT,
            im_message_uid=message_uid,
            sent_at=timezone.now(),
            attempts=row.attempts + 1,
            lease_until=None,
        )
        if row.reference is not None:
            _tell_flow_delivered(row, reference=row.reference, message_uid=message_uid)
    return None


def _tell_flow_delivered(row: OutboundMessage, *, reference: int, message_uid: int) -> None:
    """Best effort, after the row is marked sent: the IM server has the message, and a failure here
    must never make the row look unsent (its lease would expire and the customer get it twice)."""
    try:
        # A savepoint only inside a caller's transaction (tests): a failure must not break it.
        with transaction.atomic() if connection.in_atomic_block else nullcontext():
            flow_handlers().delivered(reference=reference, im_message_id=message_uid)
    except Exception:
        logger.exception("outbox %s: sent as IM message %s, but the flow could not record it", row, message_uid)


def outbox_retry_failed(*, row_ids: list[int]) -> int:
    """Supervisor action: put failed rows back in line, in id order among their key's pending rows."""
    rows = OutboundMessage.objects.filter(pk__in=row_ids, state=OutboundMessage.State.FAILED)
    keys = set(rows.values_list("ordering_key", flat=True))
    count = rows.update(state=OutboundMessage.State.PENDING, next_attempt_at=timezone.now(), lease_until=None)
    for key in keys:
        transaction.on_commit(partial(_schedule, key))
    return count


def outbox_due_keys(*, limit: int = 500) -> list[str]:
    """Keys whose head is due: what the periodic sweep re-schedules (covers lost task messages)."""
    now = timezone.now()
    earlier_pending = OutboundMessage.objects.filter(
        ordering_key=OuterRef("ordering_key"), state=OutboundMessage.State.PENDING, pk__lt=OuterRef("pk")
    )
    heads = (
        OutboundMessage.objects.filter(state=OutboundMessage.State.PENDING, next_attempt_at__lte=now)
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .filter(~Exists(earlier_pending))
        .values_list("ordering_key", flat=True)[:limit]
    )
    return list(heads)
