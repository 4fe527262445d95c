"""Receiving the IM server's robot callbacks (§5): authenticate, validate, store once, act.

The IM server does not sign callbacks, gives up after 10 s and keeps at most 5 in flight per
host (§5.2): a callback is stored first, then acted on in order per conversation
(``inbound_drain``); every call to the IM server that follows goes through the outbox, so the
answer never waits for the IM server.
"""

from __future__ import annotations

import contextlib
import hmac
import json
import logging
import threading
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

import redis
from django.conf import settings
from django.db import IntegrityError, InterfaceError, OperationalError, connection, transaction
from django.db.models import F
from django.utils import timezone

from cs_project.json_input import JSONRefused, json_parse, json_problem
from robots.handlers import flow_handlers
from robots.models import InboundMessage, Robot
from robots.robot_cache import robot_by_pk, robot_by_robot_id, robot_cache_forget, robot_known
from robots.robot_ids import may_be_shadow_robot_id
from robots.wfprotocol import CallbackFormatError, CallbackMessage, UserType, parse_callback

logger = logging.getLogger(__name__)


MAX_BODY_BYTES = 256 * 1024
MAX_ID_LENGTH = 64  # user and robot ids, as stored


@dataclass(frozen=True)
class CallbackRejected(Exception):
    status: int
    reason: str


@dataclass(frozen=True)
class CallbackOutcome:
    status: Literal["accepted", "duplicate", "ignored"]
    message_id: int


# One answer for an unknown robot and a wrong token: a 404 for the one and a 403 for the other
# would tell anyone which IM users have a shadow robot, i.e. which customers reached a human.
_REFUSED = (403, "unknown robot or wrong callback token")


def _token_matches(robot: Robot | None, token: str) -> bool:
    # Constant time: the token is the only thing that authenticates an unsigned callback.
    return robot is not None and hmac.compare_digest(robot.callback_token.encode(), token.encode())


def _authenticate(robot_id: str, token: str) -> int:
    """The robot's row id, when ``token`` is its callback token. The robot comes from this process's
    memory (robots.robot_cache); a token that does not match the copy is checked against the row."""
    if json_problem(robot_id) is not None or len(robot_id) > 64:
        raise CallbackRejected(*_REFUSED)
    robot = robot_known(robot_id)
    if robot is None or not _token_matches(robot, token):
        # Not remembered, or the token may have been rotated since: one read of the row.
        robot = robot_by_robot_id(robot_id, fresh=True)
        if not _token_matches(robot, token):
            raise CallbackRejected(*_REFUSED)
    assert robot is not None  # noqa: S101 - a matching token implies a robot
    return robot.pk


def _parse(body: bytes) -> CallbackMessage:
    if len(body) > MAX_BODY_BYTES:
        raise CallbackRejected(413, f"body larger than {MAX_BODY_BYTES} bytes")
    try:
        document = json_parse(body)
    except JSONRefused as exc:
        raise CallbackRejected(400, f"body {exc.reason}") from None
    try:
        message = parse_callback(document)
    except CallbackFormatError as exc:
        raise CallbackRejected(400, f"{exc.field}: {exc.reason}") from None
    for field, value in (("sender", message.sender), ("conv.target", message.conv.target)):
        if len(value) > MAX_ID_LENGTH:
            raise CallbackRejected(400, f"{field}: longer than {MAX_ID_LENGTH} characters")
    return message


def _robot_sender(message: CallbackMessage) -> str | None:
    """What kind of robot sent this message, or None for a person.

    Robots are never answered: every robot of ours answers what it receives, so a robot writing to
    one (another auto-replying robot, or one of ours writing to another) would start a conversation
    that never ends. A person costs nothing here: only an id of a shadow's shape is looked up
    (memory, else one query), and the IM server's word is read from the callback itself."""
    sender = message.sender
    if sender == settings.CS_ROBOT_ID or robot_known(sender) is not None:
        return "one of our robots"
    if may_be_shadow_robot_id(sender) and robot_by_robot_id(sender) is not None:
        return "one of our robots"
    if message.sender_type == UserType.ROBOT:
        return "an IM robot (senderUserInfo.type 1)"
    return None


_MAX_ROBOT_SENDERS_LOGGED = 10_000
_robot_senders_logged: set[str] = set()
_robot_senders_lock = threading.Lock()


def _robot_sender_log_once(*, message: CallbackMessage, robot_id: str, kind: str) -> None:
    """One warning per robot sender and process: a robot that writes once writes again."""
    with _robot_senders_lock:
        if message.sender in _robot_senders_logged:
            return
        if len(_robot_senders_logged) >= _MAX_ROBOT_SENDERS_LOGGED:
            _robot_senders_logged.clear()
        _robot_senders_logged.add(message.sender)
    logger.warning(
        "message %s from %s to robot %s stored and ignored: the sender is %s, and robots are never answered"
        " (two answering robots would write to each other forever); its further messages are ignored silently",
        message.message_id,
        message.sender,
        robot_id,
        kind,
    )


def callback_accept(*, robot_id: str, token: str, body: bytes) -> CallbackOutcome:
    """Store a callback's message once (by robot and IM message id), then act on its conversation.

    The row is committed before anything acts on it, so a crash in between loses nothing (the
    inbound sweep acts on it later). Who acts (``CS_INBOUND_DRAIN``): "stream", the inbound_stream
    process, woken by the row's NOTIFY at commit, while this answers at once (the protocol's advice,
    §5.2); "request", this request before it answers (in-process tests). A Celery task per message
    was slower than both (docs/benchmarks.md). Called outside any transaction.

    A robot's message is stored as IGNORED and never reaches the flow (``_robot_sender``): decided
    here, once, before anything (a drain, the sweep, a retry) could act on it.
    """
    robot_pk = _authenticate(robot_id, token)
    message = _parse(body)
    robot_sender = _robot_sender(message)
    state = InboundMessage.State.PENDING if robot_sender is None else InboundMessage.State.IGNORED
    try:
        # One INSERT commits by itself; a savepoint only inside a caller's transaction (tests), so
        # that an error cannot break it. Plain SQL: the ORM's building of it was most of this
        # request's cost (docs/benchmarks.md); a duplicate inserts nothing instead of raising.
        with (
            transaction.atomic() if connection.in_atomic_block else contextlib.nullcontext(),
            connection.cursor() as cursor,
        ):
            cursor.execute(
                _INSERT,
                [
                    robot_pk,
                    message.message_id,
                    message.sender,
                    message.conv.type,
                    message.conv.target,
                    message.conv.line,
                    json.dumps(message.payload.to_wire()),
                    message.timestamp,
                    state,
                ],
            )
            stored = cursor.fetchone() is not None
    except IntegrityError:
        robot_cache_forget(robot_id)  # e.g. a robot row that is gone: never taken for a duplicate
        raise
    if not stored:
        return CallbackOutcome("duplicate", message.message_id)
    if robot_sender is not None:
        _robot_sender_log_once(message=message, robot_id=robot_id, kind=robot_sender)
        return CallbackOutcome("ignored", message.message_id)
    if settings.CS_INBOUND_DRAIN == "stream":
        # Committed: its NOTIFY wakes the inbound_stream process, which acts on it (§5.2: answer at once).
        return CallbackOutcome("accepted", message.message_id)
    try:
        inbound_drain(robot_pk=robot_pk, sender=message.sender)
    except Exception:
        # Stored and still pending: answered 200 all the same, the inbound sweep acts on it later.
        logger.exception("inbound message from %s stored, but acting on it failed", message.sender)
    return CallbackOutcome("accepted", message.message_id)


_INSERT = f"""
INSERT INTO {InboundMessage._meta.db_table}
    (robot_id, message_id, sender, conv_type, conv_target, conv_line, payload, server_timestamp, state,
     received_at, attempts, last_error, next_attempt_at)
VALUES (%s, %s, %s, %s, %s, %s, %s::jsonb, %s, %s, now(), 0, '', NULL)
ON CONFLICT ON CONSTRAINT inbound_unique_per_robot DO NOTHING
RETURNING id"""  # noqa: S608 - the table name is ours; every value is a parameter


def inbound_drain(*, robot_pk: int, sender: str) -> int:
    """Act on one conversation's pending messages in server-time order; returns how many.

    Each message is claimed and acted on in one transaction that holds its row lock. When another
    worker holds the conversation's oldest pending message, it is draining this conversation and
    will reach every message committed before it finishes (it looks again after each one), so this
    call leaves at once (``nowait``) instead of waiting behind that lock (a request thread, or a
    sweep); it never skips ahead to a younger message, which would break the order.
    """
    handled = 0
    while True:
        if handled and not _has_pending(robot_pk=robot_pk, sender=sender):
            return handled  # one plain read instead of a locking transaction that finds nothing
        try:
            acted = _act(_CLAIM_HEAD, [robot_pk, sender])
        except OperationalError as exc:
            if not _lock_not_available(exc):
                raise
            return handled  # another worker is draining this conversation
        if not acted:
            return handled
        handled += 1


def _has_pending(*, robot_pk: int, sender: str) -> bool:
    return InboundMessage.objects.filter(robot_id=robot_pk, sender=sender, state=InboundMessage.State.PENDING).exists()


def _lock_not_available(exc: OperationalError) -> bool:
    """PostgreSQL's 55P03 (the row is locked, NOWAIT)."""
    return getattr(exc.__cause__, "sqlstate", None) == "55P03"


_T = InboundMessage._meta.db_table
# A claim marks the message done (one attempt more) as it locks it: acting on it then needs no
# second write, and a failure rolls the claim back with the flow's writes (then ``_failed``).
_CLAIM = f"UPDATE {_T} SET state = 'done', attempts = attempts + 1, last_error = ''"  # noqa: S608
# The conversation's oldest pending message, unless another worker holds it (NOWAIT: 55P03).
_CLAIM_HEAD = f"""{_CLAIM}
 WHERE id = (SELECT id FROM {_T} WHERE robot_id = %s AND sender = %s AND state = 'pending'
              ORDER BY server_timestamp, id LIMIT 1 FOR NO KEY UPDATE NOWAIT)
   AND (next_attempt_at IS NULL OR next_attempt_at <= now())
RETURNING *"""  # noqa: S608 - the table name is ours; every value is a parameter


def _act(claim: str, params: list[object]) -> bool:
    """Claim one stored message and act on it, in one transaction; False if there was none to claim.

    A failure undoes the flow's writes and the claim together, and leaves the message pending with
    its attempt counted and its retry due later, or failed for good (``_failed``). Errors of the
    claim itself propagate.
    """
    inbound: InboundMessage | None = None
    try:
        with transaction.atomic():
            claimed = list(InboundMessage.objects.raw(claim, params))
            if not claimed:
                return False
            inbound = claimed[0]
            handled = flow_handlers().inbound(robot=robot_by_pk(inbound.robot_id), inbound=inbound)
            if not handled:
                InboundMessage.objects.filter(pk=inbound.pk).update(state=InboundMessage.State.IGNORED)
    except Exception as exc:
        if inbound is None:
            raise
        _failed(inbound, exc)
    return True


def _failed(inbound: InboundMessage, exc: Exception) -> None:
    """The transaction that acted on ``inbound`` raised and rolled back with its claim: the attempt
    is counted and the message waits for its retry, holding its conversation (the rule below), or
    after the last attempt fails for good. Nothing changes when the message is no longer pending:
    then it had committed and what raised ran after the commit, or another worker acted on it."""
    error = f"{type(exc).__name__}: {exc}"[:2000]
    attempts = inbound.attempts  # counted by the claim, which the rollback undid
    pending = InboundMessage.objects.filter(pk=inbound.pk, state=InboundMessage.State.PENDING)
    if _infrastructure_failure(exc):
        # The database or Redis unreachable is no fault of the message: it waits, its attempts
        # kept for faults of its own (an outage longer than the back-off must not give it up).
        marked = pending.update(
            last_error=error, next_attempt_at=timezone.now() + timedelta(seconds=INFRASTRUCTURE_RETRY_SECONDS)
        )
        what = f"could not be processed ({type(exc).__name__}, not counted); retry in {INFRASTRUCTURE_RETRY_SECONDS}s"
    elif attempts >= MAX_INBOUND_ATTEMPTS:
        gave_up = f"gave up after {attempts} attempts; last: {error}"[:2000]
        marked = pending.update(
            state=InboundMessage.State.FAILED, attempts=F("attempts") + 1, last_error=gave_up, next_attempt_at=None
        )
        what = f"failed for good after {attempts} attempts; its conversation goes on"
    else:
        retry_in = inbound_backoff(attempts)
        marked = pending.update(
            attempts=F("attempts") + 1, last_error=error, next_attempt_at=timezone.now() + timedelta(seconds=retry_in)
        )
        what = f"could not be processed (attempt {attempts}); retry in {retry_in:.0f}s, its conversation waits"
    if not marked:
        what = "was acted on; a step after its commit failed"
    logger.exception("inbound message %s from %s %s", inbound.message_id, inbound.sender, what)


# The rule for order and retries (docs/reliability.md): a conversation's messages are acted on one
# at a time in the IM server's order. A message whose acting fails stays pending and holds its
# conversation (the customer's later messages wait behind it and never overtake it) while it is
# retried with a growing back-off; after MAX_INBOUND_ATTEMPTS it fails for good, visibly (the admin
# can put it back in line), and the conversation goes on with its next message.
MAX_INBOUND_ATTEMPTS = 5
INBOUND_BACKOFF_SECONDS = (5, 10, 20, 40)
INFRASTRUCTURE_RETRY_SECONDS = 10


def _infrastructure_failure(exc: BaseException) -> bool:
    """The database connection or Redis failed (sqlstate class 08, or none: the connection is
    gone), as opposed to something about the message."""
    if isinstance(exc, InterfaceError | redis.ConnectionError | redis.TimeoutError):
        return True
    if isinstance(exc, OperationalError):
        sqlstate = getattr(exc.__cause__, "sqlstate", None)
        return sqlstate is None or sqlstate.startswith("08")
    return False


def inbound_backoff(attempts: int) -> float:
    """Seconds before the next try after ``attempts`` failed ones: 5, 10, 20, 40 (75 s in all)."""
    return float(INBOUND_BACKOFF_SECONDS[min(attempts, len(INBOUND_BACKOFF_SECONDS)) - 1])


def inbound_retry_due() -> int:
    """Act on the conversations whose oldest pending message is due: one never acted on (a crashed
    request; after 5 s, so as not to race the request still acting on it) or one whose retry is due.
    Only each conversation's head counts: a conversation held behind a message in back-off is not
    listed (it would crowd out, in the batch of 500, those that are due)."""
    due = inbound_due_conversations(settled_seconds=5)
    count = 0
    for robot_pk, sender in due:
        count += inbound_drain(robot_pk=robot_pk, sender=sender)
    return count


def inbound_due_conversations(*, settled_seconds: float, limit: int = 500) -> list[tuple[int, str]]:
    """(robot row id, sender) of the conversations whose oldest pending message is due, oldest
    first: never acted on and stored more than ``settled_seconds`` ago, or its retry due."""
    with connection.cursor() as cursor:
        cursor.execute(_DUE_HEADS, [settled_seconds, limit])
        return [(robot_pk, sender) for robot_pk, sender in cursor.fetchall()]


_DUE_HEADS = f"""
SELECT robot_id, sender FROM (
    SELECT DISTINCT ON (robot_id, sender) robot_id, sender, next_attempt_at, received_at
      FROM {_T} WHERE state = 'pending' ORDER BY robot_id, sender, server_timestamp, id
) AS heads
 WHERE (next_attempt_at IS NULL OR next_attempt_at <= now())
   AND received_at <= now() - make_interval(secs => %s)
 ORDER BY received_at
 LIMIT %s"""  # noqa: S608 - the table name is ours


def inbound_retry_failed(*, inbound_ids: list[int]) -> int:
    """Put messages that failed for good back in line (an admin's action) and act on their
    conversations now: each is then its conversation's oldest pending message, acted on first."""
    failed = InboundMessage.objects.filter(pk__in=inbound_ids, state=InboundMessage.State.FAILED)
    conversations = list(failed.values_list("robot_id", "sender").distinct())
    count = failed.update(state=InboundMessage.State.PENDING, attempts=0, next_attempt_at=None)
    for robot_pk, sender in conversations:
        try:
            inbound_drain(robot_pk=robot_pk, sender=sender)
        except Exception:
            logger.exception("inbound retry: acting on the messages of %s failed; the sweep tries again", sender)
    return count
