"""Every live event for the servicer console and the supervisor view goes through here.

Payloads are typed; events are sent after the transaction commits, so a console never shows
something that was rolled back.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Literal, TypedDict

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

if TYPE_CHECKING:
    from sessions_app.models import Message
    from sessions_app.models import SessionEvent as TimelineRow

logger = logging.getLogger(__name__)

SUPERVISORS_GROUP = "cs.supervisors"


def seat_group(seat_id: int) -> str:
    return f"cs.seat.{seat_id}"


class MessageEvent(TypedDict):
    type: Literal["message.new"]
    session_id: int
    seq: int
    direction: str
    author: str
    content_type: int
    payload: dict[str, object]
    server_timestamp: int


class SessionEvent(TypedDict):
    """``detail`` of a transfer (``session.assigned`` to the receiver, ``session.transferred_out``
    to the sender) carries ``note``, ``from_seat`` and ``to_seat`` (names)."""

    type: Literal["session.assigned", "session.closed", "session.transferred_out"]
    session_id: int
    customer_id: int
    customer_name: str
    state: str
    detail: dict[str, object]


class SeatEvent(TypedDict):
    type: Literal["seat.status"]
    seat_id: int
    status: str
    active_sessions: int
    # True when presence set the seat away because its console connection dropped.
    automatic: bool


class QueueEvent(TypedDict):
    type: Literal["queue.changed"]
    queued: int


class TimelineEvent(TypedDict):
    """A session's timeline grew (opened, queued, assigned, transferred, closed, ...): sent to
    supervisors for every ``SessionEvent`` row, so their live view follows every state change."""

    type: Literal["session.timeline"]
    session_id: int
    kind: str
    seat_id: int | None


ConsoleEvent = MessageEvent | SessionEvent | SeatEvent | QueueEvent
SupervisorEvent = ConsoleEvent | TimelineEvent


def message_event(message: Message) -> MessageEvent:
    """The ``message.new`` form of a transcript row: sent live, and again on a console's resync."""
    return {
        "type": "message.new",
        "session_id": message.session_id,
        "seq": message.seq,
        "direction": message.direction,
        "author": message.author,
        "content_type": message.content_type,
        "payload": message.payload,
        "server_timestamp": message.server_timestamp,
    }


def _send(group: str, event: SupervisorEvent) -> None:
    layer = get_channel_layer()
    if layer is None:  # pragma: no cover - always configured in settings
        return
    try:
        # Channels routes on "type": "cs.event" reaches the consumer's one dispatcher.
        async_to_sync(layer.group_send)(group, {"type": "cs.event", "event": event})
    except Exception:
        logger.exception("could not publish %s to %s", event["type"], group)


def event_to_seat(seat_id: int, event: ConsoleEvent) -> None:
    transaction.on_commit(lambda: _send(seat_group(seat_id), event))


def event_to_supervisors(event: SupervisorEvent) -> None:
    transaction.on_commit(lambda: _send(SUPERVISORS_GROUP, event))


def timeline_row_saved(sender: object, instance: TimelineRow, created: bool, **kwargs: object) -> None:  # noqa: FBT001
    """``post_save`` receiver of the timeline (connected in ``SessionsAppConfig.ready``).

    Every state change of a session writes a timeline row, whichever service makes it; hooking
    the row, not each service, keeps the supervisors' view complete as services are added.
    """
    if created:
        event: TimelineEvent = {
            "type": "session.timeline",
            "session_id": instance.session_id,
            "kind": instance.kind,
            "seat_id": instance.seat_id,
        }
        event_to_supervisors(event)
