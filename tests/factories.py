"""Rows for tests that do not need the IM side: sessions in a given state, without sending anything."""

from __future__ import annotations

import itertools
from datetime import datetime

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from robots.models import OutboundMessage
from seats.models import Seat
from sessions_app.flow.transcript import customer_tell
from sessions_app.models import Customer, Message, ServiceSession, SessionEvent

_ids = itertools.count(1)


def customer_make(im_user_id: str | None = None) -> Customer:
    return Customer.objects.create(im_user_id=im_user_id or f"customer-{next(_ids)}", display_name="顾客")


def session_make(
    *, customer: Customer | None = None, seat: Seat | None = None, state: str = ServiceSession.State.HUMAN
) -> ServiceSession:
    customer = customer or customer_make()
    now = timezone.now()
    closed = state == ServiceSession.State.CLOSED
    return ServiceSession.objects.create(
        customer=customer,
        seat=seat,
        state=state,
        assigned_at=now if seat else None,
        closed_at=now if closed else None,
        rated_seat=seat if closed else None,
    )


def session_served(seat: Seat, *, online: bool = False) -> ServiceSession:
    """A session in human mode with ``seat``, its capacity taken as assignment would (and the seat
    set online with ``online``)."""
    session = session_make(seat=seat)
    changes: dict[str, object] = {"active_sessions": F("active_sessions") + 1}
    if online:
        changes["status"] = Seat.Status.ONLINE
    Seat.objects.filter(pk=seat.pk).update(**changes)
    return session


def customer_told(customer_im_id: str, texts: list[str]) -> str:
    """Texts told to a new customer: outbox rows written in one transaction, not delivered (the
    caller drives delivery); returns their ordering key."""
    with transaction.atomic():
        session = ServiceSession.objects.create(customer=customer_make(customer_im_id))
        for text in texts:
            customer_tell(session=session, text=text)
    return OutboundMessage.objects.filter(target_user_id=customer_im_id).values_list("ordering_key", flat=True)[0]


def message_make(session: ServiceSession, text: str, *, author: str = Message.Author.CUSTOMER) -> Message:
    session.last_seq += 1
    session.save(update_fields=["last_seq"])
    return Message.objects.create(
        session=session,
        seq=session.last_seq,
        direction=Message.Direction.IN if author == Message.Author.CUSTOMER else Message.Direction.OUT,
        author=author,
        content_type=1,
        payload={"type": 1, "searchableContent": text},
        server_timestamp=int(timezone.now().timestamp() * 1000),
    )


# Sessions with a hand-written timeline, for the reports: every time is given explicitly.


def timed_session(
    *,
    opened: datetime,
    queued: datetime | None = None,
    closed: datetime | None = None,
    reason: str = "",
    rated_seat: Seat | None = None,
    customer: Customer | None = None,
) -> ServiceSession:
    """A session opened at ``opened`` with an OPENED event, optionally asking for a human at
    ``queued`` (HUMAN_REQUESTED), and closed at ``closed`` (CLOSED, with ``reason``); open ones
    are queued or in bot mode until ``assignment_at`` makes them human."""
    if closed is not None:
        state = ServiceSession.State.CLOSED
    else:
        state = ServiceSession.State.QUEUED if queued else ServiceSession.State.BOT
    session = ServiceSession.objects.create(
        customer=customer or customer_make(),
        state=ServiceSession.State.BOT,
        queued_at=queued,
        closed_at=closed,
        close_reason=reason,
        rated_seat=rated_seat,
    )
    ServiceSession.objects.filter(pk=session.pk).update(opened_at=opened)
    event_at(session, SessionEvent.Kind.OPENED, opened)
    if queued is not None:
        event_at(session, SessionEvent.Kind.HUMAN_REQUESTED, queued)
    if closed is not None:
        event_at(session, SessionEvent.Kind.CLOSED, closed, detail={"reason": reason})
    ServiceSession.objects.filter(pk=session.pk).update(state=state)
    session.refresh_from_db()
    return session


def event_at(
    session: ServiceSession,
    kind: str,
    at: datetime,
    *,
    seat: Seat | None = None,
    detail: dict[str, object] | None = None,
) -> SessionEvent:
    event = SessionEvent.objects.create(session=session, kind=kind, seat=seat, detail=detail or {})
    SessionEvent.objects.filter(pk=event.pk).update(at=at)
    event.refresh_from_db()
    return event


def assignment_at(session: ServiceSession, seat: Seat, at: datetime, *, waited: bool = False) -> None:
    """The first assignment (``waited``: after a QUEUED event at the request time)."""
    if waited and session.queued_at is not None:
        event_at(session, SessionEvent.Kind.QUEUED, session.queued_at)
    event_at(session, SessionEvent.Kind.ASSIGNED, at, seat=seat)
    ServiceSession.objects.filter(pk=session.pk).update(assigned_at=at, seat=seat)
    ServiceSession.objects.filter(pk=session.pk, state=ServiceSession.State.QUEUED).update(
        state=ServiceSession.State.HUMAN
    )


def transfer_at(session: ServiceSession, from_seat: Seat, to_seat: Seat, at: datetime) -> None:
    """As ``sessions_app.flow.transfer`` records it: the event names the receiving seat."""
    event_at(
        session,
        SessionEvent.Kind.TRANSFERRED,
        at,
        seat=to_seat,
        detail={"from_seat": from_seat.pk, "to_seat": to_seat.pk},
    )
    ServiceSession.objects.filter(pk=session.pk).update(seat=to_seat)


def reply_at(session: ServiceSession, seat: Seat, at: datetime, text: str = "您好") -> Message:
    """A servicer's message stored at ``at`` (the session's first human reply, if none yet)."""
    message = message_make(session, text, author=Message.Author.SERVICER)
    Message.objects.filter(pk=message.pk).update(seat=seat, created_at=at, server_timestamp=int(at.timestamp() * 1000))
    ServiceSession.objects.filter(pk=session.pk, first_human_reply_at__isnull=True).update(first_human_reply_at=at)
    message.refresh_from_db()
    return message
