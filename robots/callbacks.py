"""Receiving the IM server's robot callbacks (§5): authenticate, validate, store once, act.

The IM server does not sign callbacks, gives up after 10 s and keeps at most 5 in flight per
host (§5.2), so a callback is answered as soon as the message is stored and acted on in the
database; every call to the IM server that follows goes through the outbox.
"""

from __future__ import annotations

import hmac
import json
import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

from django.db import IntegrityError, transaction
from django.utils import timezone

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


def _has_nul(value: object) -> bool:
    """PostgreSQL text and JSONB cannot hold U+0000; such a body is refused, not half-stored."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(key) or _has_nul(item) for key, item in value.items())
    if isinstance(value, list):
        return any(_has_nul(item) for item in value)
    return False


def _authenticate(robot_id: str, token: str) -> Robot:
    if _has_nul(robot_id) or len(robot_id) > 64:
        raise CallbackRejected(404, "unknown robot")
    robot = Robot.objects.filter(robot_id=robot_id).first()
    if robot is None:
        raise CallbackRejected(404, "unknown robot")
    # Constant time: the token is the only thing that authenticates an unsigned callback.
    if not hmac.compare_digest(robot.callback_token.encode(), token.encode()):
        raise CallbackRejected(403, "wrong callback token")
    return robot


def _parse(body: bytes) -> CallbackMessage:
    if len(body) > MAX_BODY_BYTES:
        raise CallbackRejected(413, f"body larger than {MAX_BODY_BYTES} bytes")
    try:
        document = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise CallbackRejected(400, "body is not JSON") from None
    if _has_nul(document):
        raise CallbackRejected(400, "body contains a NUL character")
    try:
        message = parse_callback(document)
    except CallbackFormatError as exc:
        raise CallbackRejected(400, f"{exc.field}: {exc.reason}") from None
    for field, value in (("sender", message.sender), ("conv.target", message.conv.target)):
        if len(value) > MAX_ID_LENGTH:
            raise CallbackRejected(400, f"{field}: longer than {MAX_ID_LENGTH} characters")
    return message


def callback_accept(*, robot_id: str, token: str, body: bytes) -> CallbackOutcome:
    """Store a callback's message once (by robot and IM message id) and act on it."""
    robot = _authenticate(robot_id, token)
    message = _parse(body)
    try:
        with transaction.atomic():
            inbound = InboundMessage.objects.create(
                robot=robot,
                message_id=message.message_id,
                sender=message.sender,
                conv_type=message.conv.type,
                conv_target=message.conv.target,
                conv_line=message.conv.line,
                payload=message.payload.to_wire(),
                server_timestamp=message.timestamp,
            )
    except IntegrityError:
        return CallbackOutcome("duplicate", message.message_id)
    inbound_process(inbound_id=inbound.pk)
    return CallbackOutcome("accepted", message.message_id)


def inbound_process(*, inbound_id: int) -> None:
    """Act on a stored message. A failure leaves it FAILED, visible, and scheduled for a retry."""
    from sessions_app.services.inbound import inbound_dispatch  # the CS logic sits above robots

    inbound = InboundMessage.objects.select_related("robot").get(pk=inbound_id)
    if inbound.state in (InboundMessage.State.DONE, InboundMessage.State.IGNORED):
        return
    try:
        with transaction.atomic():
            handled = inbound_dispatch(robot=inbound.robot, inbound=inbound)
            InboundMessage.objects.filter(pk=inbound.pk).update(
                state=InboundMessage.State.DONE if handled else InboundMessage.State.IGNORED,
                attempts=inbound.attempts + 1,
                last_error="",
            )
    except Exception as exc:
        InboundMessage.objects.filter(pk=inbound.pk).update(
            state=InboundMessage.State.FAILED,
            attempts=inbound.attempts + 1,
            last_error=f"{type(exc).__name__}: {exc}"[:2000],
        )
        logger.exception("inbound message %s from %s could not be processed", inbound.message_id, inbound.sender)


MAX_INBOUND_ATTEMPTS = 10


def inbound_retry_due() -> int:
    """Process again what failed, or what a crashed process stored but never acted on."""
    stale = timezone.now() - timedelta(seconds=5)
    due = InboundMessage.objects.filter(
        state__in=(InboundMessage.State.FAILED, InboundMessage.State.PENDING),
        received_at__lt=stale,
        attempts__lt=MAX_INBOUND_ATTEMPTS,
    ).order_by("server_timestamp", "pk")
    count = 0
    for inbound_id in due.values_list("pk", flat=True)[:500]:
        inbound_process(inbound_id=inbound_id)
        count += 1
    return count
