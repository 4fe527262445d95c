"""The outbox: messages to the IM server, written in the transaction that decided to send them.

Delivery is strictly ordered per ``ordering_key`` (one IM conversation): only the oldest pending
row of a key may be claimed, through a conditional UPDATE of its lease, so two deliverers never
send the same row concurrently and never overtake each other. Two ways to deliver, one set of rules
(``CS_OUTBOX_DELIVERY``):

- ``stream`` (production, the demo): the long-running ``outbox_stream`` process
  (``robots.outbox_stream``) claims due heads of many conversations in one statement and sends them
  concurrently over a keep-alive pool; a trigger on the table NOTIFYs it when rows commit.
- ``inline`` (in-process tests): a key is delivered in the committing thread, at commit.
 A transient failure (IM server down, rate limited) leaves the row pending with a
back-off and stops the key; a permanent one (the user no longer exists) marks it failed, visibly,
and the key moves on. Each send first asks the sending robot's rate limiter (``robots.ratelimit``),
shared by all workers, so a burst is paced to the IM server's ``http.robot.rate_limit``.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import cache, partial

import redis
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from cs_project.sql import json_param
from robots.handlers import flow_handlers
from robots.im import robot_client
from robots.models import OutboundMessage, Robot
from robots.ratelimit import UNLIMITED_REFUSAL_WAIT_SECONDS, RobotRateLimiter
from robots.services import cs_robot_get, friendship_ensure, robots_forget, shadow_ensure
from robots.wfprotocol import (
    Conversation,
    MessagePayload,
    WfcAuthError,
    WfcError,
    WfcRateLimited,
    extra_with_message_id,
)

logger = logging.getLogger(__name__)

T = OutboundMessage._meta.db_table
PENDING = OutboundMessage.State.PENDING


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
        ordering_key=_ordering_key(speaker, target_user_id, line),
        sender_kind=sender_kind,
        shadow_of=shadow_of if sender_kind == OutboundMessage.SenderKind.SHADOW else "",
        target_user_id=target_user_id,
        conv_line=line,
        payload=payload.to_wire(),
        reference=reference,
        befriend_first=befriend_first,
    )
    if settings.CS_OUTBOX_DELIVERY == "inline":
        transaction.on_commit(partial(_deliver_inline, row.ordering_key))
    # Streamed: the table's trigger NOTIFYs the outbox_stream process when the transaction commits.
    return row


def _ordering_key(speaker: str, target_user_id: str, line: int) -> str:
    """One IM conversation: who speaks (the CS Robot, or a customer's shadow) to whom, on which line."""
    return f"{speaker}>{target_user_id}:{line}"


@dataclass(frozen=True)
class CsRobotSend:
    """One message from the CS Robot to a user, for ``outbox_enqueue_many``."""

    target_user_id: str
    payload: MessagePayload
    line: int = 0
    reference: int | None = None


@dataclass(frozen=True)
class ShadowSend:
    """One message from the shadow of IM user ``shadow_of`` to a user, for ``outbox_enqueue_many``
    (``befriend_first``: as in ``outbox_enqueue``)."""

    shadow_of: str
    target_user_id: str
    payload: MessagePayload
    line: int = 0
    reference: int | None = None
    befriend_first: bool = False


def outbox_enqueue_many(sends: Sequence[CsRobotSend | ShadowSend]) -> list[int]:
    """``outbox_enqueue`` for many sends at once (a sweep's batch; a console reply and its copy to
    the servicer's IM app): one INSERT, its rows passed as one JSON array rather than thousands of
    parameters. Each conversation keeps the order of ``sends``. Returns the new rows' ids, in that
    order. Delivered inline, the heads of its conversations are claimed together (``outbox_deliver_keys``)."""
    if not sends:
        return []
    now = timezone.now()
    rows: list[dict[str, object]] = []
    for send in sends:
        if isinstance(send, ShadowSend):
            if not send.shadow_of:
                raise ValueError("a shadow send needs the IM user whose shadow speaks")
            kind, speaker, shadow_of = OutboundMessage.SenderKind.SHADOW, f"shadow:{send.shadow_of}", send.shadow_of
        else:
            kind, speaker, shadow_of = OutboundMessage.SenderKind.CS_ROBOT, "cs", ""
        rows.append(
            {
                "k": _ordering_key(speaker, send.target_user_id, send.line),
                "s": kind.value,
                "o": shadow_of,
                "f": isinstance(send, ShadowSend) and send.befriend_first,
                "t": send.target_user_id,
                "l": send.line,
                "p": send.payload.to_wire(),
                "r": send.reference,
            }
        )
    with connection.cursor() as cursor:
        cursor.execute(_INSERT_MANY, [PENDING.value, now, now, json_param(rows)])
        ids = [row[0] for row in cursor.fetchall()]
    if settings.CS_OUTBOX_DELIVERY == "inline":
        keys = [str(row["k"]) for row in rows]
        transaction.on_commit(partial(_deliver_inline_many, list(dict.fromkeys(keys))))
    return ids


_INSERT_MANY = f"""
INSERT INTO {T} (ordering_key, sender_kind, shadow_of, target_user_id, befriend_first, conv_line, payload,
                 reference, state, attempts, next_attempt_at, last_error, created_at)
SELECT u.row->>'k', u.row->>'s', u.row->>'o', u.row->>'t', (u.row->>'f')::boolean, (u.row->>'l')::int, u.row->'p',
       (u.row->>'r')::bigint, %s, 0, %s, '', %s
  FROM jsonb_array_elements(%s::jsonb) WITH ORDINALITY AS u(row, n)
 ORDER BY u.n
RETURNING id
"""  # noqa: S608 - the table name is ours; every value is a parameter


def _deliver_inline(key: str) -> None:
    """Every due row of the key, in order (a row behind a head that was backing off goes too)."""
    try:
        outbox_deliver_key(key=key)
    except Exception:
        logger.exception("outbox key %s: inline delivery failed; the row stays pending", key)


def _deliver_inline_many(keys: list[str]) -> None:
    try:
        outbox_deliver_keys(keys=keys)
    except Exception:
        logger.exception("outbox keys %s: inline delivery failed; the rows stay pending", keys)


def _claim_head(key: str) -> tuple[OutboundMessage, bool] | None:
    """Claim the oldest pending row of a key, or None if it is not due or someone else has it;
    with it, whether other rows of the key were pending behind it at that moment.

    One statement: the conditions are re-checked on the row's latest version under its lock
    (PostgreSQL re-evaluates an UPDATE's WHERE after waiting), so of two deliverers only one claims it.
    """
    now = timezone.now()
    lease = now + timedelta(seconds=settings.CS_OUTBOX_LEASE_SECONDS)
    claimed = list(OutboundMessage.objects.raw(_CLAIM_HEAD, [lease, key, PENDING, PENDING, now, now, key, PENDING]))
    # ``behind`` is the statement's extra column, set on the instance by ``raw``.
    return (claimed[0], bool(getattr(claimed[0], "behind", False))) if claimed else None


_CLAIM_HEAD = f"""
UPDATE {T} SET lease_until = %s
 WHERE id = (SELECT id FROM {T} WHERE ordering_key = %s AND state = %s ORDER BY id LIMIT 1)
   AND state = %s AND next_attempt_at <= %s AND (lease_until IS NULL OR lease_until < %s)
RETURNING *, EXISTS (SELECT 1 FROM {T} AS b WHERE b.ordering_key = %s AND b.state = %s AND b.id > {T}.id) AS behind
"""  # noqa: S608 - the table name is ours; every value is a parameter


def outbox_claim_due(*, limit: int) -> list[OutboundMessage]:
    """Claim the due heads of up to ``limit`` conversations, oldest first, in one statement.

    A head is the oldest pending row of its key; one that is leased (in flight elsewhere) or
    backing off is not due, and the rows behind it wait. The same re-check as ``_claim_head``
    keeps two deliverers off the same row.
    """
    now = timezone.now()
    lease = now + timedelta(seconds=settings.CS_OUTBOX_LEASE_SECONDS)
    params = [PENDING, now, now, limit, lease, PENDING, now, now]
    return list(OutboundMessage.objects.raw(_CLAIM_DUE, params))


def outbox_due_keys(*, limit: int = 500) -> list[str]:
    """The keys whose head is due: what ``outbox_claim_due`` would claim now (read only)."""
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(_DUE_KEYS, [PENDING, now, now, limit])
        return [key for (key,) in cursor.fetchall()]


# A conversation's head is its oldest pending row; it is due when its back-off is over and no
# deliverer holds it. Params: pending, now, now, limit.
_DUE_HEADS = f"""
WITH heads AS (
  SELECT DISTINCT ON (ordering_key) id, ordering_key, next_attempt_at, lease_until
    FROM {T} WHERE state = %s ORDER BY ordering_key, id
), due AS (
  SELECT id, ordering_key FROM heads
   WHERE next_attempt_at <= %s AND (lease_until IS NULL OR lease_until < %s)
   ORDER BY id LIMIT %s
)
"""  # noqa: S608 - the table name is ours; every value is a parameter

_DUE_KEYS = f"{_DUE_HEADS} SELECT ordering_key FROM due"  # noqa: S608 - no value in the text
_CLAIM_DUE = f"""{_DUE_HEADS}
UPDATE {T} SET lease_until = %s
 WHERE id IN (SELECT id FROM due)
   AND state = %s AND next_attempt_at <= %s AND (lease_until IS NULL OR lease_until < %s)
RETURNING *
"""  # noqa: S608 - the table name is ours; every value is a parameter


@cache
def _redis(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)


def rate_limiter() -> RobotRateLimiter:
    """The per-robot limiter at ``WFC_ROBOT_RATE_LIMIT``, on the project's Redis."""
    return RobotRateLimiter(_redis(settings.REDIS_URL), limit=settings.WFC_ROBOT_RATE_LIMIT)


def outbox_sender(row: OutboundMessage) -> Robot:
    """The robot that speaks a row: the CS Robot, or the customer's shadow (provisioned if need be)."""
    if row.sender_kind == OutboundMessage.SenderKind.SHADOW:
        if not row.shadow_of:
            raise ValueError(f"outbox row {row.pk}: a shadow send that names no IM user")
        return shadow_ensure(user_im_id=row.shadow_of)
    return cs_robot_get()


def outbox_conversation(row: OutboundMessage) -> Conversation:
    return Conversation(type=0, target=row.target_user_id, line=row.conv_line)


def outbox_befriend(row: OutboundMessage, robot: Robot) -> None:
    """A shadow's first message to a servicer befriends them first (disable_stranger_chat servers)."""
    if row.befriend_first and row.sender_kind == OutboundMessage.SenderKind.SHADOW:
        friendship_ensure(robot=robot, user_im_id=row.target_user_id)


def _send(row: OutboundMessage, robot: Robot) -> int:
    outbox_befriend(row, robot)
    result = robot_client(robot).send_message(outbox_conversation(row), outbox_payload(row))
    return result.message_uid


def outbox_payload(row: OutboundMessage) -> MessagePayload:
    """What a row sends: its payload, with the row's stable id in ``extra`` (``cs.mid``), the same
    on every try, so a client can drop a copy that a retried send delivered twice."""
    payload = MessagePayload.from_wire(row.payload)
    return replace(payload, extra=extra_with_message_id(payload.extra, str(row.pk)))


def outbox_ticket(row: OutboundMessage) -> str:
    """The row's name in the rate limiter: a reserved slot stays its own across retries."""
    return f"outbox:{row.pk}"


def _rate_wait(limiter: RobotRateLimiter, robot: Robot, row: OutboundMessage) -> float:
    try:
        return limiter.acquire(robot_id=robot.robot_id, ticket=outbox_ticket(row))
    except redis.RedisError as exc:
        # The IM server enforces its limit anyway and a 250 is retried: without Redis, send unpaced.
        logger.warning("outbox %s: rate limiter unavailable (%s), sending unpaced", row, exc)
        return 0.0


def outbox_auth_refused(exc: WfcError) -> bool:
    """A 401 (or a sign error): the robot's secret may have changed in another process since this
    one kept it in memory, so every robot kept in memory is dropped (the caller drops its own)."""
    if not (exc.http_status == 401 or isinstance(exc, WfcAuthError)):
        return False
    robots_forget()
    return True


def outbox_auth_refused_first(row: OutboundMessage, exc: WfcError) -> bool:
    """An auth refusal (``outbox_auth_refused``) on a row's first try: the row is tried once more,
    with the robot read afresh, before the refusal counts as permanent."""
    return outbox_auth_refused(exc) and row.attempts == 0


AUTH_RETRY_SECONDS = 1.0


def outbox_robot_refused(robot: Robot | None, exc: WfcError) -> bool:
    """A 250 from the robot API: the robot's own bucket, which the limiter models. The admin API's
    single global bucket (shadow creation, friendships) is not ours to model."""
    return isinstance(exc, WfcRateLimited) and robot is not None and exc.path.startswith("/robot/")


def _refusal_wait(limiter: RobotRateLimiter, robot: Robot | None, row: OutboundMessage, exc: WfcError) -> float:
    if robot is None or not outbox_robot_refused(robot, exc):
        return UNLIMITED_REFUSAL_WAIT_SECONDS
    try:
        return limiter.server_refused(robot_id=robot.robot_id, ticket=outbox_ticket(row))
    except redis.RedisError:
        return UNLIMITED_REFUSAL_WAIT_SECONDS


def outbox_defer(row: OutboundMessage, delay: float) -> None:
    """Leave the row pending, due after ``delay``, without counting an attempt: nothing failed."""
    OutboundMessage.objects.filter(pk=row.pk).update(
        lease_until=None, next_attempt_at=timezone.now() + timedelta(seconds=delay)
    )


def outbox_lease_left_for_a_send(row: OutboundMessage) -> bool:
    """Whether the row's lease outlasts a send's longest wait (connect and answer timeouts). Work
    before the send (provisioning a shadow, pacing) may have used it up: a send that outlived the
    lease could be made a second time by another deliverer that claimed the row meanwhile."""
    longest = settings.WFC_TIMEOUT_SECONDS + settings.WFC_SEND_TIMEOUT_SECONDS + 1
    return row.lease_until is not None and timezone.now() + timedelta(seconds=longest) < row.lease_until


def outbox_release(row: OutboundMessage) -> None:
    """Give a claimed row back, due now, unless its lease has passed to another deliverer."""
    OutboundMessage.objects.filter(pk=row.pk, lease_until=row.lease_until, state=PENDING).update(
        lease_until=None, next_attempt_at=timezone.now()
    )


def outbox_backoff(attempts: int) -> float:
    """Seconds before the next try after ``attempts`` failed ones: doubling, capped, and spread by
    ±20% so that the rows of an IM server that comes back are not all retried in the same second."""
    base = min(2.0 ** min(attempts, 30), settings.CS_OUTBOX_MAX_BACKOFF_SECONDS)
    return base * random.uniform(0.8, 1.2)  # noqa: S311 - spreading retries, not a secret


def outbox_mark_failed_attempt(
    row: OutboundMessage, exc: BaseException, *, retry_in: float | None, counted: bool = True
) -> None:
    """Count a failed attempt and say why; pending again after ``retry_in`` seconds, or failed for
    good (None, or the last of ``CS_OUTBOX_MAX_ATTEMPTS``), visibly, so the key moves on to its next
    row. A supervisor can put it back in line (``outbox_retry_failed``). ``counted=False``: the IM
    server said "slow down" (code 250), which never uses up the attempts. Only a pending row changes:
    one that another deliverer sent meanwhile stays sent. An error may allow fewer attempts
    (``WfcError.attempts_allowed``, e.g. an HTTP 500)."""
    row.attempts += 1
    row.last_error = f"{type(exc).__name__}: {exc}"[:2000]
    row.lease_until = None
    allowed = exc.attempts_allowed if isinstance(exc, WfcError) else None
    limit = min(settings.CS_OUTBOX_MAX_ATTEMPTS, allowed or settings.CS_OUTBOX_MAX_ATTEMPTS)
    if retry_in is not None and counted and row.attempts >= limit:
        row.last_error = f"gave up after {row.attempts} attempts; last: {row.last_error}"[:2000]
        retry_in = None
    pending = OutboundMessage.objects.filter(pk=row.pk, state=OutboundMessage.State.PENDING)
    if retry_in is None:
        row.state = OutboundMessage.State.FAILED
        pending.update(attempts=row.attempts, last_error=row.last_error, lease_until=None, state=row.state)
        logger.error("outbox %s failed for good: %s", row, row.last_error)
        return
    row.next_attempt_at = timezone.now() + timedelta(seconds=retry_in)
    pending.update(
        attempts=row.attempts, last_error=row.last_error, lease_until=None, next_attempt_at=row.next_attempt_at
    )
    logger.warning("outbox %s: retry in %.3fs after %s", row, retry_in, type(exc).__name__)


def outbox_mark_sent(deliveries: Sequence[tuple[OutboundMessage, int]]) -> None:
    """Rows the IM server accepted, with the message ids it gave: one statement for all of them,
    which also lets the flow record the ids of the rows that carried its reference
    (``FlowHandlers.delivered_sql``). Should the flow's part fail, the rows are marked sent without
    it: the IM server has the messages, and a row that looked unsent would be sent again."""
    if not deliveries:
        return
    values = ", ".join(["(%s::bigint, %s::bigint)"] * len(deliveries))
    pairs: list[int] = [number for row, message_uid in deliveries for number in (row.pk, message_uid)]
    params: list[str | datetime | int] = [*pairs, OutboundMessage.State.SENT.value, timezone.now()]
    mark = (
        f"WITH v(id, uid) AS (VALUES {values}), sent AS ("  # noqa: S608 - the table name is ours; values are parameters
        f" UPDATE {T} SET state = %s, sent_at = %s, attempts = attempts + 1, lease_until = NULL,"
        f" im_message_uid = v.uid FROM v WHERE {T}.id = v.id RETURNING {T}.reference, v.uid)"
    )
    if any(row.reference is not None for row, _uid in deliveries):
        try:
            # A savepoint only inside a caller's transaction (tests): a failure must not break it.
            with transaction.atomic() if connection.in_atomic_block else nullcontext(), connection.cursor() as cursor:
                cursor.execute(f"{mark}, flow AS ({flow_handlers().delivered_sql}) SELECT 1", params)
        except Exception:
            logger.exception("outbox: %d messages sent; the flow could not record their IM ids", len(deliveries))
        else:
            return
    with connection.cursor() as cursor:
        cursor.execute(f"{mark} SELECT 1", params)


# Keys being delivered inline by a thread of this process, each with "look again when done": a row
# committed while its key's head is in flight (leased) cannot be claimed by the thread that wrote it,
# so that thread leaves it to the one delivering the key, which would otherwise stop after its last
# row without another statement to look for new ones.
_inline_keys: dict[str, bool] = {}
_inline_lock = threading.Lock()


def outbox_deliver_key(*, key: str) -> float | None:
    """Deliver a key's due rows in order (inline delivery, one thread per key in this process; a
    call while another thread delivers the key leaves it to that one, which looks again). Returns
    seconds until a retry is due, or None.

    Inline delivery is for in-process tests: the hand-off is per process, and a row left due
    later (a back-off, a pace) is sent by the next delivery of its key, not by a timer; production
    delivers through ``outbox_stream``, which looks again for due rows on its own.
    """
    with _inline_lock:
        if key in _inline_keys:
            _inline_keys[key] = True
            return None
        _inline_keys[key] = False
    done = False
    try:
        while True:
            delay = _deliver_key_rows(key)
            with _inline_lock:
                # Decided and let go of under one lock: a caller that comes after this finds the
                # key free and delivers it itself, rather than leaving it to a thread on its way out.
                if delay is not None or not _inline_keys[key]:
                    _inline_keys.pop(key, None)
                    done = True
                    return delay
                _inline_keys[key] = False
    finally:
        if not done:
            with _inline_lock:
                _inline_keys.pop(key, None)


def _deliver_key_rows(key: str) -> float | None:
    """Deliver a key's due rows in order, until none is left behind the last one sent: claim the
    key's head row (its lease keeps other deliverers off it), then ``_row_deliver``."""
    limiter = rate_limiter()
    while (claimed := _claim_head(key)) is not None:
        row, behind = claimed
        outcome = _row_deliver(limiter, row)
        if isinstance(outcome, _Sent):
            outbox_mark_sent([(row, outcome.message_uid)])
        elif isinstance(outcome, _Stop):
            return outcome.delay
        if not behind and not isinstance(outcome, _Again):
            return None
    return None


@dataclass(frozen=True)
class _Sent:
    message_uid: int


@dataclass(frozen=True)
class _Stop:
    """The key stops here: its head is due again after ``delay`` seconds."""

    delay: float


@dataclass(frozen=True)
class _Again:
    """The head is due again now (an auth refusal on its first try)."""


@dataclass(frozen=True)
class _Failed:
    """The head failed for good: the key moves on to its next row."""


def _row_deliver(limiter: RobotRateLimiter, row: OutboundMessage) -> _Sent | _Stop | _Again | _Failed:
    """Send one claimed head row; every outcome but a send is written to the row here.

    1. Ask the sending robot's rate limiter. "Wait": the row stays pending, due after the wait,
       no attempt counted, and the key stops here.
    2. Send. Code 250 from the robot API (the IM server's bucket was full after all) means slow down
       and retry, never failure: the limiter learns the bucket is full, so every deliverer paces
       that robot, and the row waits for its reserved slot.
    3. Any other transient failure (or an unexpected error, logged with its traceback) backs off
       exponentially; a permanent one fails the row, and the key moves on to its next row.
    """
    robot: Robot | None = None
    try:
        robot = outbox_sender(row)
        wait = _rate_wait(limiter, robot, row)
        if wait > 0:
            outbox_defer(row, wait)
            logger.debug("outbox %s: paced, %.3fs until %s may send", row, wait, robot.robot_id)
            return _Stop(wait)
        return _Sent(_send(row, robot))
    except WfcError as exc:
        if outbox_auth_refused_first(row, exc):
            # Inline delivery has no timer to come back later: the second try is now, with
            # the robot read afresh (a second refusal fails the row).
            outbox_mark_failed_attempt(row, exc, retry_in=0)
            return _Again()
        if not exc.retryable:
            outbox_mark_failed_attempt(row, exc, retry_in=None)
            return _Failed()
        refused = isinstance(exc, WfcRateLimited)
        delay = _refusal_wait(limiter, robot, row, exc) if refused else outbox_backoff(row.attempts + 1)
        outbox_mark_failed_attempt(row, exc, retry_in=delay, counted=not refused)
        return _Stop(delay)
    except Exception as exc:
        logger.exception("outbox %s: unexpected error while sending", row)
        delay = outbox_backoff(row.attempts + 1)
        outbox_mark_failed_attempt(row, exc, retry_in=delay)
        return _Stop(delay)


def outbox_deliver_keys(*, keys: Sequence[str]) -> None:
    """Deliver the due rows of several keys (inline delivery of what one transaction wrote), as the
    streaming deliverer does a batch: the keys' heads claimed by one statement, sent one after the
    other, and marked sent by one statement. A key with rows behind its head, or one that another
    thread of this process was delivering meanwhile, then goes on alone (``outbox_deliver_key``).
    """
    if len(keys) == 1:
        outbox_deliver_key(key=keys[0])
        return
    with _inline_lock:
        mine = [key for key in dict.fromkeys(keys) if key not in _inline_keys]
        for key in keys:
            _inline_keys[key] = key not in mine  # another thread's key: it looks again when done
    more: list[str] = []
    try:
        limiter = rate_limiter()
        sent: list[tuple[OutboundMessage, int]] = []
        for row, behind in _claim_heads(mine):
            if not outbox_lease_left_for_a_send(row):  # the sends before it took most of its claim
                outbox_release(row)
                more.append(row.ordering_key)
                continue
            outcome = _row_deliver(limiter, row)
            if isinstance(outcome, _Sent):
                sent.append((row, outcome.message_uid))
            if isinstance(outcome, _Again) or (behind and not isinstance(outcome, _Stop)):
                more.append(row.ordering_key)
        outbox_mark_sent(sent)
    finally:
        with _inline_lock:
            for key in mine:
                if _inline_keys.pop(key, False) and key not in more:
                    more.append(key)
    for key in more:
        outbox_deliver_key(key=key)


def _claim_heads(keys: Sequence[str]) -> list[tuple[OutboundMessage, bool]]:
    """``_claim_head`` for several keys in one statement, in id order."""
    if not keys:
        return []
    now = timezone.now()
    lease = now + timedelta(seconds=settings.CS_OUTBOX_LEASE_SECONDS)
    claimed = OutboundMessage.objects.raw(_CLAIM_HEADS, [lease, list(keys), PENDING, PENDING, now, now, PENDING])
    return sorted(((row, bool(getattr(row, "behind", False))) for row in claimed), key=lambda pair: pair[0].pk)


_CLAIM_HEADS = f"""
UPDATE {T} SET lease_until = %s
 WHERE id IN (SELECT DISTINCT ON (ordering_key) id FROM {T} WHERE ordering_key = ANY(%s) AND state = %s
               ORDER BY ordering_key, id)
   AND state = %s AND next_attempt_at <= %s AND (lease_until IS NULL OR lease_until < %s)
RETURNING *, EXISTS (SELECT 1 FROM {T} AS b WHERE b.ordering_key = {T}.ordering_key AND b.state = %s
                     AND b.id > {T}.id) AS behind
"""  # noqa: S608 - the table name is ours; every value is a parameter


def outbox_retry_failed(*, row_ids: list[int]) -> int:
    """Supervisor action: put failed rows back in line, in id order among their key's pending rows."""
    rows = OutboundMessage.objects.filter(pk__in=row_ids, state=OutboundMessage.State.FAILED)
    keys = set(rows.values_list("ordering_key", flat=True))
    count = rows.update(state=OutboundMessage.State.PENDING, next_attempt_at=timezone.now(), lease_until=None)
    if settings.CS_OUTBOX_DELIVERY == "inline":
        for key in keys:
            transaction.on_commit(partial(_deliver_inline, key))
    return count


def outbox_stop_trying(*, row_ids: list[int], by: str) -> int:
    """Supervisor action: pending rows are marked failed (kept, visible, retryable), so their
    conversations move on to their next messages. A row being sent right now (leased) is left
    alone: failing it would let the next one overtake it."""
    now = timezone.now()
    rows = OutboundMessage.objects.filter(pk__in=row_ids, state=OutboundMessage.State.PENDING).filter(
        Q(lease_until__isnull=True) | Q(lease_until__lt=now)
    )
    return rows.update(state=OutboundMessage.State.FAILED, lease_until=None, last_error=f"stopped by {by}"[:2000])
