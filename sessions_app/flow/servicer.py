"""What servicers do: reply (from the console or the IM app), end sessions, switch status."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cs_project.errors import ApplicationError
from robots.models import OutboundMessage
from robots.outbox import outbox_enqueue
from robots.wfprotocol import (
    TEXT_MAX_LENGTH,
    ContentType,
    MessagePayload,
    PersistFlag,
    servicer_copy_kind,
    servicer_extra,
    text_payload,
)
from seats.models import Seat
from sessions_app.events import SeatEvent, event_to_seat, event_to_supervisors
from sessions_app.flow.assignment import queue_drain_soon
from sessions_app.flow.closing import session_close
from sessions_app.flow.im_history import history_to_im, is_history_command
from sessions_app.flow.servicer_im import servicer_im_copy_refused, servicer_im_echoes
from sessions_app.flow.servicer_texts import relay_refused_text
from sessions_app.flow.transcript import customer_send
from sessions_app.flow.wrap_up import session_wrap_up_write, wrap_up_given
from sessions_app.models import Customer, Message, ServiceSession, ServiceSettings, SessionEvent, SessionWrapUp

RELAYED_TYPES = frozenset({1, 3, 5})  # text, image, file (§7.3)


def owned_session_lock(*, session_id: int, seat: Seat) -> ServiceSession:
    """Lock an open session that this seat serves, or refuse: every servicer action checks here."""
    session = (
        ServiceSession.objects.select_for_update(no_key=True, of=("self",))
        .select_related("customer", "seat")
        .filter(pk=session_id)
        .first()
    )
    if session is None or session.seat_id != seat.pk:
        raise ApplicationError(_("This session is not yours."), code="not_owner", status=403)
    if session.state != ServiceSession.State.HUMAN:
        raise ApplicationError(_("This session has ended."), code="closed", status=409)
    return session


def text_too_long(payload: MessagePayload) -> ApplicationError | None:
    """The refusal of a text over the one limit (``TEXT_MAX_LENGTH``), or None for any other message."""
    length = len(payload.searchable_content)
    if payload.type != ContentType.TEXT or length <= TEXT_MAX_LENGTH:
        return None
    message = _("The message is too long: at most %(max)s characters, this one has %(length)s.")
    return ApplicationError(message % {"max": f"{TEXT_MAX_LENGTH:,}", "length": f"{length:,}"}, code="too_long")


@transaction.atomic
def servicer_reply(*, session_id: int, seat: Seat, payload: MessagePayload) -> Message:
    """Send a servicer's message, written in the console, to the customer as the CS Robot, with the
    servicer in ``extra``; and its copy to the servicer's IM app (``flow.servicer_im``)."""
    if payload.type not in RELAYED_TYPES:
        raise ApplicationError(_("Only text, image and file messages can be sent."), code="bad_type")
    if (refusal := text_too_long(payload)) is not None:
        raise refusal
    session = owned_session_lock(session_id=session_id, seat=seat)
    return _reply_locked(session=session, seat=seat, payload=payload, from_console=True)


def _reply_locked(*, session: ServiceSession, seat: Seat, payload: MessagePayload, from_console: bool) -> Message:
    """``servicer_reply`` on a session the caller locked and checked (its seat's, in human mode).
    A reply from the console is copied to the servicer's IM app, in the same statement as the
    reply's own outbox row; one from the IM app is there already."""
    extra = servicer_extra(name=seat.display_name, avatar=seat.avatar_url, servicer_id=str(seat.pk))
    relayed = replace(payload, extra=extra, persist_flag=PersistFlag.PERSIST_AND_COUNT)
    now = timezone.now()
    # The customer owes the reply now: the idle clock (re)starts, and a pending warning is void.
    session.idle_since = now
    session.idle_warned_at = None
    fields = ["idle_since", "idle_warned_at"]
    if session.first_human_reply_at is None:
        session.first_human_reply_at = now
        fields.append("first_human_reply_at")
        SessionEvent.objects.create(session=session, kind=SessionEvent.Kind.FIRST_HUMAN_REPLY, seat=seat)
    # Written with the transcript's sequence number, in one statement.
    return customer_send(
        session=session,
        payload=relayed,
        author=Message.Author.SERVICER,
        seat=seat,
        session_fields=fields,
        shadow_sends=servicer_im_echoes(session=session, seat=seat, payload=payload) if from_console else (),
    )


@transaction.atomic
def servicer_end_session(*, session_id: int, seat: Seat, tags: Sequence[str] = (), summary: str = "") -> None:
    """End a session the seat serves, keeping its wrap-up (``tags``, ``summary``) when given. With
    the "wrap-up required" setting on, a session without one (given now or written before) stays open."""
    session = owned_session_lock(session_id=session_id, seat=seat)
    if wrap_up_given(tags=tags, summary=summary):
        session_wrap_up_write(session=session, seat=seat, tags=tags, summary=summary)
    elif ServiceSettings.load().wrap_up_required and not SessionWrapUp.objects.filter(session=session).exists():
        raise ApplicationError(
            _("A wrap-up is required: give at least one tag or a summary to end the chat."), code="wrap_up_required"
        )
    session_close(session=session, reason=ServiceSession.CloseReason.SERVICER_END)


def servicer_reply_from_im(*, customer_im_id: str, sender_im_id: str, payload: MessagePayload) -> None:
    """A servicer wrote to a customer's shadow in the IM app: relay it, or explain why not.

    The common case in one statement: the customer's session in human mode (locked), with its seat.
    A message the CS server wrote to a servicer (a console reply's copy, a notice) that comes back,
    forwarded, is never relayed: the customer has the reply already, and a notice is not for them.
    The history command is answered by the shadow and never relayed (sessions_app.flow.im_history)."""
    if servicer_copy_kind(payload.extra) is not None:
        servicer_im_copy_refused(customer_im_id=customer_im_id, sender_im_id=sender_im_id)
        return
    if is_history_command(payload) and history_to_im(customer_im_id=customer_im_id, sender_im_id=sender_im_id):
        return
    session = (
        ServiceSession.objects.select_for_update(no_key=True, of=("self",))
        .select_related("customer", "seat")
        .filter(customer__im_user_id=customer_im_id, state=ServiceSession.State.HUMAN)
        .first()
    )
    serving = session is not None and session.seat is not None and session.seat.im_user_id == sender_im_id
    too_long = text_too_long(payload) is not None
    if serving and session is not None and session.seat is not None and payload.type in RELAYED_TYPES and not too_long:
        _reply_locked(session=session, seat=session.seat, payload=payload, from_console=False)
        return
    if not Customer.objects.filter(im_user_id=customer_im_id).exists():
        raise ValueError(f"a shadow stands for {customer_im_id!r}, who is no customer")
    is_servicer = serving or Seat.objects.filter(im_user_id=sender_im_id).exists()
    problem = relay_refused_text(is_servicer=is_servicer, serving=serving, too_long=too_long)
    outbox_enqueue(
        sender_kind=OutboundMessage.SenderKind.SHADOW,
        shadow_of=customer_im_id,
        target_user_id=sender_im_id,
        payload=text_payload(problem),
    )


def seat_status_announce(*, seat: Seat) -> None:
    """A seat's status or capacity was set (seats.services): tell its consoles and the supervisors; going online
    drains the queue onto it. Registered with seats from this app's ``AppConfig.ready``."""
    event: SeatEvent = {
        "type": "seat.status",
        "seat_id": seat.pk,
        "status": seat.status,
        "active_sessions": seat.active_sessions,
        "capacity": seat.capacity,
        "automatic": seat.away_automatic,
    }
    event_to_seat(seat.pk, event)
    event_to_supervisors(event)
    if seat.status == Seat.Status.ONLINE:
        transaction.on_commit(queue_drain_soon)
