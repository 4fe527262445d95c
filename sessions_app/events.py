"""Every live event for the servicer console and the supervisor view goes through here.

Payloads are typed; events are sent after the transaction commits, so a console never shows
something that was rolled back.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Literal, TypedDict

from django.db import transaction

from cs_project import layer_sender

if TYPE_CHECKING:
    from sessions_app.models import LeftMessage, Message
    from sessions_app.models import SessionEvent as TimelineRow

logger = logging.getLogger(__name__)

SUPERVISORS_GROUP = "cs.supervisors"
# Every open servicer console, whichever its seat: for what all servicers share (left messages).
CONSOLES_GROUP = "cs.consoles"


def seat_group(seat_id: int) -> str:
    return f"cs.seat.{seat_id}"


def monitor_group(session_id: int) -> str:
    """Supervisors monitoring one session (their live feed subscribes to it): its new messages."""
    return f"cs.monitor.{session_id}"


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
    capacity: int
    # True when presence set the seat away because its console connection dropped.
    automatic: bool


class TimelineEvent(TypedDict):
    """A session's timeline grew (opened, queued, assigned, transferred, closed, ...): sent to
    supervisors for every ``SessionEvent`` row, so their live view follows every state change."""

    type: Literal["session.timeline"]
    session_id: int
    kind: str
    seat_id: int | None


class LeftMessageNewEvent(TypedDict):
    """A customer left a message: the row as the console's list of left messages shows it."""

    type: Literal["left_message.new"]
    id: int
    customer_id: int
    customer_name: str
    customer_avatar: str
    customer_im_user_id: str
    text: str
    created_at: str


class LeftMessageHandledEvent(TypedDict):
    """Left messages were marked handled (``seat_id`` None: by a supervisor in the admin)."""

    type: Literal["left_message.handled"]
    ids: list[int]
    seat_id: int | None


class CustomerEvent(TypedDict):
    """A customer's IM profile was read (their first contact): consoles showing them by their IM id
    show their name and avatar instead."""

    type: Literal["customer.updated"]
    customer_id: int
    customer_name: str
    customer_avatar: str


class QueueChangedEvent(TypedDict):
    """Someone joined or left the queue (queued, assigned, taken, left, timed out): every console
    reloads its queue panel (``GET /api/console/queue/``), which holds positions and first messages."""

    type: Literal["queue.changed"]


LeftMessageEvent = LeftMessageNewEvent | LeftMessageHandledEvent
ConsoleEvent = MessageEvent | SessionEvent | SeatEvent | LeftMessageEvent | CustomerEvent | QueueChangedEvent
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


def left_message_event(left_message: LeftMessage) -> LeftMessageNewEvent:
    customer = left_message.customer
    return {
        "type": "left_message.new",
        "id": left_message.pk,
        "customer_id": customer.pk,
        "customer_name": str(customer),
        "customer_avatar": customer.avatar_url,
        "customer_im_user_id": customer.im_user_id,
        "text": left_message.text,
        "created_at": left_message.created_at.isoformat(),
    }


def _send(group: str, event: SupervisorEvent) -> None:
    try:
        # Channels calls the consumer's handler named after the type ("message.new": message_new).
        layer_sender.group_send(group, {"type": event["type"], "event": event})
    except Exception:
        logger.exception("could not publish %s to %s", event["type"], group)


def event_to_seat(seat_id: int, event: ConsoleEvent) -> None:
    transaction.on_commit(lambda: _send(seat_group(seat_id), event))


def event_to_seat_and_monitors(seat_id: int, session_id: int, event: MessageEvent) -> None:
    """A served session's new message: to its seat's consoles and to the supervisors monitoring it,
    both sends made at once (a monitor group nobody joined still costs a Redis round trip; made
    concurrently with the seat's, it adds next to nothing to the message's path)."""
    message = {"type": event["type"], "event": event}

    def send() -> None:
        try:
            layer_sender.group_send_many([(seat_group(seat_id), message), (monitor_group(session_id), message)])
        except Exception:
            logger.exception("could not publish %s for session %s", event["type"], session_id)

    transaction.on_commit(send)


def event_to_supervisors(event: SupervisorEvent) -> None:
    transaction.on_commit(lambda: _send(SUPERVISORS_GROUP, event))


def event_to_consoles(event: LeftMessageEvent | CustomerEvent | QueueChangedEvent) -> None:
    transaction.on_commit(lambda: _send(CONSOLES_GROUP, event))


def queue_changed_publish() -> None:
    """Tell every console that the queue changed, once the transaction commits."""
    event_to_consoles({"type": "queue.changed"})


def timeline_row_saved(sender: object, instance: TimelineRow, created: bool, **kwargs: object) -> None:  # noqa: FBT001
    """``post_save`` receiver of the timeline (connected in ``SessionsAppConfig.ready``).

    Every state change of a session writes a timeline row, whichever service makes it; hooking
    the row, not each service, keeps the supervisors' view complete as services are added.
    """
    if created:
        event_to_supervisors(
            timeline_event(session_id=instance.session_id, kind=instance.kind, seat_id=instance.seat_id)
        )


def timeline_event(*, session_id: int, kind: str, seat_id: int | None) -> TimelineEvent:
    return {"type": "session.timeline", "session_id": session_id, "kind": kind, "seat_id": seat_id}
