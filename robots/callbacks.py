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
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

from django.db import IntegrityError, OperationalError, connection, transaction
from django.utils import timezone

from cs_project.json_input import MAX_DEPTH, json_problem
from robots.handlers import flow_handlers
from robots.models import InboundMessage, Robot
from robots.wfprotocol import CallbackFormatError, CallbackMessage, parse_callback

logger = logging.getLogger(__name__)


MAX_BODY_BYTES = 256 * 1024
MAX_ID_LENGTH = 64  # user and robot ids, as stored


@dataclass(frozen=True)
class CallbackRejected(Exception):
    status: int
    reason: str


@dataclass(frozen=True)
class CallbackOutcome:
    status: Literal["accepted", "duplicate"]
    message_id: int


# Robots by IM id: (when the entry expires, the row's id, its callback token). Every callback looks
# its robot up; a cached token that does not match is read again (a rotated token works at once).
_known_robots: dict[str, tuple[float, int, str]] = {}
KNOWN_ROBOT_SECONDS = 60.0


# One answer for an unknown robot and a wrong token: a 404 for the one and a 403 for the other
# would tell anyone which IM users have a shadow robot, i.e. which customers reached a human.
_REFUSED = (403, "unknown robot or wrong callback token")


def _authenticate(robot_id: str, token: str) -> int:
    """The robot's row id, when ``token`` is its callback token."""
    if json_problem(robot_id) is not None or len(robot_id) > 64:
        raise CallbackRejected(*_REFUSED)
    known = _known_robots.get(robot_id)
    # Constant time: the token is the only thing that authenticates an unsigned callback.
    if known is not None and known[0] > time.monotonic() and hmac.compare_digest(known[2].encode(), token.encode()):
        return known[1]
    robot = Robot.objects.filter(robot_id=robot_id).only("pk", "callback_token").first()
    if robot is None or not hmac.compare_digest(robot.callback_token.encode(), token.encode()):
        raise CallbackRejected(*_REFUSED)
    _known_robots[robot_id] = (time.monotonic() + KNOWN_ROBOT_SECONDS, robot.pk, robot.callback_token)
    return robot.pk


def _parse(body: bytes) -> CallbackMessage:
    if len(body) > MAX_BODY_BYTES:
        raise CallbackRejected(413, f"body larger than {MAX_BODY_BYTES} bytes")
    try:
        document = json.loads(body)
    except RecursionError:
        raise CallbackRejected(400, f"body nested deeper than {MAX_DEPTH} levels") from None
    except ValueError:  # not UTF-8, not JSON, or an integer beyond Python's 4,300 digits
        raise CallbackRejected(400, "body is not JSON") from None
    if (reason := json_problem(document)) is not None:
        raise CallbackRejected(400, f"body {reason}")
    try:
        message = parse_callback(document)
    except CallbackFormatError as exc:
        raise CallbackRejected(400, f"{exc.field}: {exc.reason}") from None
    for field, value in (("sender", message.sender), ("conv.target", message.conv.target)):
        if len(value) > MAX_ID_LENGTH:
            raise CallbackRejected(400, f"{field}: longer than {MAX_ID_LENGTH} characters")
    return message


def callback_accept(*, robot_id: str, token: str, body: bytes) -> CallbackOutcome:
    """Store a callback's message once (by robot and IM message id), then act on its conversation.

    The row is committed before anything acts on it, so a crash in between loses nothing (the
    inbound sweep acts on it later). Acting happens here, in the request: measured against handing
    it to a worker, that kept relay latency and the assignment storm 2-3 times better on this
    machine (docs/benchmarks.md). Called outside any transaction.
    """
    robot_pk = _authenticate(robot_id, token)
    message = _parse(body)
    try:
        # One INSERT commits by itself; a savepoint only inside a caller's transaction (tests), so
        # that a duplicate's error cannot break it.
        with transaction.atomic() if connection.in_atomic_block else contextlib.nullcontext():
            InboundMessage.objects.create(
                robot_id=robot_pk,
                message_id=message.message_id,
                sender=message.sender,
                conv_type=message.conv.type,
                conv_target=message.conv.target,
                conv_line=message.conv.line,
                payload=message.payload.to_wire(),
                server_timestamp=message.timestamp,
            )
    except IntegrityError as exc:
        if getattr(getattr(exc.__cause__, "diag", None), "constraint_name", None) != "inbound_unique_per_robot":
            _known_robots.pop(robot_id, None)  # e.g. a robot row that is gone: never taken for a duplicate
            raise
        return CallbackOutcome("duplicate", message.message_id)
    try:
        inbound_drain(robot_pk=robot_pk, sender=message.sender)
    except Exception:
        # Stored and still pending: answered 200 all the same, the inbound sweep acts on it later.
        logger.exception("inbound message from %s stored, but acting on it failed", message.sender)
    return CallbackOutcome("accepted", message.message_id)


def inbound_drain(*, robot_pk: int, sender: str) -> int:
    """Act on one conversation's pending messages in server-time order; returns how many.

    Each message is handled in a transaction that holds its row lock. When another worker holds
    the conversation's oldest pending message, it is draining this conversation and will reach
    every message committed before it finishes (it looks again after each one), so this call
    leaves at once (``nowait``) instead of waiting behind that lock (a request thread, or a
    sweep); it never skips ahead to a younger message, which would break the order.
    """
    handled = 0
    while True:
        if handled and not _has_pending(robot_pk=robot_pk, sender=sender):
            return handled  # one plain read instead of a locking transaction that finds nothing
        try:
            with transaction.atomic():
                head = (
                    InboundMessage.objects.select_for_update(no_key=True, nowait=True, of=("self",))
                    .select_related("robot")
                    .filter(robot_id=robot_pk, sender=sender, state=InboundMessage.State.PENDING)
                    .order_by("server_timestamp", "pk")
                    .first()
                )
                if head is None:
                    return handled
                _act_locked(head)
        except OperationalError as exc:
            if not _lock_not_available(exc):
                raise
            return handled  # another worker is draining this conversation
        handled += 1


def _has_pending(*, robot_pk: int, sender: str) -> bool:
    return InboundMessage.objects.filter(robot_id=robot_pk, sender=sender, state=InboundMessage.State.PENDING).exists()


def _lock_not_available(exc: OperationalError) -> bool:
    """PostgreSQL's 55P03 (the row is locked, NOWAIT)."""
    return getattr(exc.__cause__, "sqlstate", None) == "55P03"


def inbound_process_one(*, inbound_id: int) -> None:
    """Act on one stored message again (a retry of a failed one), unless it is done meanwhile."""
    with transaction.atomic():
        inbound = (
            InboundMessage.objects.select_for_update(no_key=True, of=("self",))
            .select_related("robot")
            .filter(pk=inbound_id, state__in=(InboundMessage.State.PENDING, InboundMessage.State.FAILED))
            .first()
        )
        if inbound is not None:
            _act_locked(inbound)


def _act_locked(inbound: InboundMessage) -> None:
    """Act on a locked, stored message. A failure leaves it FAILED, visible, and due for a retry."""
    try:
        act = flow_handlers().inbound
        with transaction.atomic():  # a savepoint: a failure undoes the CS logic's writes, not the lock
            handled = act(robot=inbound.robot, inbound=inbound)
    except Exception as exc:
        state, error = InboundMessage.State.FAILED, f"{type(exc).__name__}: {exc}"[:2000]
        logger.exception("inbound message %s from %s could not be processed", inbound.message_id, inbound.sender)
    else:
        state, error = (InboundMessage.State.DONE if handled else InboundMessage.State.IGNORED), ""
    InboundMessage.objects.filter(pk=inbound.pk).update(state=state, attempts=inbound.attempts + 1, last_error=error)


MAX_INBOUND_ATTEMPTS = 10


def inbound_retry_due() -> int:
    """Act on what failed, or on what was stored but never acted on (a lost task, a crashed worker)."""
    stale = timezone.now() - timedelta(seconds=5)
    due = InboundMessage.objects.filter(received_at__lt=stale, attempts__lt=MAX_INBOUND_ATTEMPTS)
    count = 0
    stuck = due.filter(state=InboundMessage.State.PENDING).values_list("robot_id", "sender").distinct()
    for robot_pk, sender in stuck[:500]:
        count += inbound_drain(robot_pk=robot_pk, sender=sender)
    failed = due.filter(state=InboundMessage.State.FAILED).order_by("server_timestamp", "pk")
    for inbound_id in failed.values_list("pk", flat=True)[:500]:
        inbound_process_one(inbound_id=inbound_id)
        count += 1
    return count
