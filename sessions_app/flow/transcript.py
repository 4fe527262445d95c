"""Writing the transcript, and sending to the customer (through the outbox, as the CS Robot)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from django.db import connection
from django.db.models import F, Field
from django.utils import timezone

from cs_project.sql import json_param
from robots.models import InboundMessage, OutboundMessage
from robots.outbox import CsRobotSend, ShadowSend, outbox_enqueue, outbox_enqueue_many
from robots.wfprotocol import ContentType, CsControl, MessagePayload, control_payload, text_payload
from seats.models import Seat
from sessions_app.events import event_to_seat_and_monitors, message_event
from sessions_app.models import Message, ServiceSession


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def transcript_append(
    *,
    session: ServiceSession,
    direction: Message.Direction,
    author: Message.Author,
    payload: MessagePayload,
    server_timestamp: int | None = None,
    im_message_id: int | None = None,
    seat: Seat | None = None,
    session_fields: Sequence[str] = (),
    bot_match: dict[str, object] | None = None,
) -> Message:
    """Append to the transcript. The caller holds the session row (``select_for_update``).

    One statement: the session's next sequence number (and ``session_fields``, other fields the
    caller changed on ``session``) is written by the same statement that inserts the row.
    """
    sets, set_params = _session_sets(session, session_fields)
    wire = payload.to_wire()
    stamp = server_timestamp if server_timestamp is not None else now_ms()
    created_at = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            _APPEND.format(sets=sets),
            [
                *set_params,
                session.pk,
                session.pk,
                direction.value,
                author.value,
                seat.pk if seat is not None else None,
                payload.type,
                json_param(wire),
                im_message_id,
                stamp,
                created_at,
                None if bot_match is None else json_param(bot_match),
            ],
        )
        row = cursor.fetchone()
    if row is None:  # the caller holds the row: it cannot be gone
        raise ServiceSession.DoesNotExist(f"session {session.pk} disappeared while locked")
    message_id, session.last_seq = row
    message = Message(
        pk=message_id,
        session=session,
        seq=session.last_seq,
        direction=direction,
        author=author,
        seat=seat,
        content_type=payload.type,
        payload=wire,
        im_message_id=im_message_id,
        server_timestamp=stamp,
        created_at=created_at,
        bot_match=bot_match,
    )
    message._state.adding = False
    message._state.db = connection.alias
    event = message_event(message)
    if session.seat_id is not None:
        # Only a served session can be monitored.
        event_to_seat_and_monitors(session.seat_id, session.pk, event)
    return message


_APPEND = (
    f"WITH s AS (UPDATE {ServiceSession._meta.db_table} SET last_seq = last_seq + 1{{sets}} WHERE id = %s"  # noqa: S608
    f" RETURNING last_seq) INSERT INTO {Message._meta.db_table} (session_id, seq, direction, author, seat_id,"
    " content_type, payload, im_message_id, server_timestamp, created_at, bot_match)"
    " SELECT %s, s.last_seq, %s, %s, %s, %s, %s::jsonb, %s, %s, %s, %s::jsonb FROM s RETURNING id, seq"
)


def _session_sets(session: ServiceSession, names: Sequence[str]) -> tuple[str, list[Any]]:
    """``, "col" = %s`` for each named field of the session, with its value as the ORM would save it."""
    sets: list[str] = []
    params: list[Any] = []
    for name in names:
        field = ServiceSession._meta.get_field(name)
        if not isinstance(field, Field) or field.column is None or field.primary_key or name == "last_seq":
            raise ValueError(f"{name!r} cannot be written with the transcript")
        sets.append(f", {connection.ops.quote_name(field.column)} = %s")
        params.append(field.get_db_prep_save(getattr(session, field.attname), connection))
    return "".join(sets), params


def customer_send(
    *,
    session: ServiceSession,
    payload: MessagePayload,
    author: Message.Author = Message.Author.SYSTEM,
    seat: Seat | None = None,
    session_fields: Sequence[str] = (),
    bot_match: dict[str, object] | None = None,
    shadow_sends: Sequence[ShadowSend] = (),
) -> Message:
    """Send a message to the customer as the CS Robot, recorded in the transcript
    (``session_fields``, ``bot_match``: as in ``transcript_append``). ``shadow_sends`` go into
    the outbox with it, by the same statement (a console reply's copies for the servicer's IM app)."""
    message = transcript_append(
        session=session,
        direction=Message.Direction.OUT,
        author=author,
        payload=payload,
        seat=seat,
        session_fields=session_fields,
        bot_match=bot_match,
    )
    if shadow_sends:
        to_customer = CsRobotSend(
            target_user_id=session.customer.im_user_id, payload=payload, line=session.conv_line, reference=message.pk
        )
        outbox_enqueue_many([to_customer, *shadow_sends])
        return message
    outbox_enqueue(
        sender_kind=OutboundMessage.SenderKind.CS_ROBOT,
        target_user_id=session.customer.im_user_id,
        payload=payload,
        line=session.conv_line,
        reference=message.pk,
    )
    return message


def customer_send_many(
    sessions: Sequence[ServiceSession], payloads: Sequence[MessagePayload], *, session_changes: dict[str, object]
) -> int:
    """``customer_send`` of the same payloads, in order, to each of many sessions (a sweep's batch,
    rows locked by the caller, customers loaded): one UPDATE of the sessions (their sequence
    numbers and ``session_changes``), one INSERT of the transcript rows, one of the outbox rows.
    Returns the number of messages written."""
    if not sessions:
        return 0
    count = len(payloads)
    ServiceSession.objects.filter(pk__in=[session.pk for session in sessions]).update(
        last_seq=F("last_seq") + count, **session_changes
    )
    wires = [payload.to_wire() for payload in payloads]
    stamp, created_at = now_ms(), timezone.now()
    rows = [
        (session, session.last_seq + offset, payload, wire)
        for session in sessions
        for offset, (payload, wire) in enumerate(zip(payloads, wires, strict=True), start=1)
    ]
    table = Message._meta.db_table
    document = json_param(
        [{"s": session.pk, "q": seq, "c": payload.type, "p": wire} for session, seq, payload, wire in rows]
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (session_id, seq, direction, author, content_type, payload, server_timestamp,"  # noqa: S608
            " created_at) SELECT (u.row->>'s')::bigint, (u.row->>'q')::int, %s, %s, (u.row->>'c')::int, u.row->'p',"
            " %s, %s FROM jsonb_array_elements(%s::jsonb) AS u(row) RETURNING id, session_id, seq",
            [Message.Direction.OUT.value, Message.Author.SYSTEM.value, stamp, created_at, document],
        )
        ids = {(session_id, seq): pk for pk, session_id, seq in cursor.fetchall()}
    outbox_enqueue_many(
        [
            CsRobotSend(
                target_user_id=session.customer.im_user_id,
                payload=payload,
                line=session.conv_line,
                reference=ids[(session.pk, seq)],
            )
            for session, seq, payload, _wire in rows
        ]
    )
    for session, seq, payload, wire in rows:
        if session.seat_id is not None:
            message = Message(
                pk=ids[(session.pk, seq)],
                session=session,
                seq=seq,
                direction=Message.Direction.OUT,
                author=Message.Author.SYSTEM,
                content_type=payload.type,
                payload=wire,
                server_timestamp=stamp,
                created_at=created_at,
            )
            event_to_seat_and_monitors(session.seat_id, session.pk, message_event(message))
    for session in sessions:
        session.last_seq += count
        for name, value in session_changes.items():
            setattr(session, name, value)
    return len(rows)


def customer_tell(*, session: ServiceSession, text: str, author: Message.Author = Message.Author.SYSTEM) -> Message:
    return customer_send(session=session, payload=text_payload(text), author=author)


def customer_signal(*, session: ServiceSession, kind: CsControl, data: dict[str, object]) -> Message:
    """An invisible control message (persistFlag 0) for modified clients; stock clients ignore it."""
    return customer_send(session=session, payload=control_payload(kind, data))


_MESSAGE_TABLE = Message._meta.db_table
# The IM ids of messages we sent (robots.handlers.FlowHandlers.delivered_sql): run by the adapter
# inside the statement that marks their outbox rows sent, over ``sent(reference, uid)``; the
# reference of a transcript row's outbox row is the row's id.
MESSAGES_DELIVERED_SQL = (
    f"UPDATE {_MESSAGE_TABLE} SET im_message_id = sent.uid FROM sent"  # noqa: S608 - no value in the text
    f" WHERE {_MESSAGE_TABLE}.id = sent.reference AND {_MESSAGE_TABLE}.im_message_id IS NULL"
)


def customer_text(payload: MessagePayload) -> str:
    """What a customer typed, trimmed; empty for anything but text."""
    return payload.searchable_content.strip() if payload.type == ContentType.TEXT else ""


def transcript_in_from_im(
    *, session: ServiceSession, inbound: InboundMessage, payload: MessagePayload, session_fields: Sequence[str] = ()
) -> None:
    """A customer's message, as the IM server delivered it, into the session's transcript."""
    transcript_append(
        session=session,
        direction=Message.Direction.IN,
        author=Message.Author.CUSTOMER,
        payload=payload,
        server_timestamp=inbound.server_timestamp,
        im_message_id=inbound.message_id,
        session_fields=session_fields,
    )
