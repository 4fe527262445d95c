"""A supervisor acts on live sessions: reassign one to a seat or back to the queue, take a seat
offline or away with or without its sessions, whisper to the servicer, and take a session over.

Race-free with assignment and closing: every action locks the session rows first (as closing and
the queue drain do), then the seats in id order, and claims capacity with the same conditional
UPDATE as assignment; only an explicit ``force`` may go over a seat's capacity.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import F, Min
from django.utils import timezone
from django.utils.translation import gettext as _

from cs_project.errors import ApplicationError
from robots.wfprotocol import text_payload
from seats.models import Seat
from seats.services import seat_status_set
from sessions_app.events import SessionEvent as SessionEventPayload
from sessions_app.events import event_to_seat, queue_changed_publish
from sessions_app.flow.assignment import queue_announce_positions, seat_claim_one, seat_release
from sessions_app.flow.transcript import transcript_append
from sessions_app.flow.transfer import NOTE_MAX_LENGTH, transfer_record_and_tell
from sessions_app.models import Message, ServiceSession, SessionEvent

WHISPER_MAX_LENGTH = 2000


def _note_clean(note: str) -> str:
    note = note.strip()
    if len(note) > NOTE_MAX_LENGTH:
        raise ApplicationError(
            _("The note is longer than %(max)s characters.") % {"max": NOTE_MAX_LENGTH}, code="note_too_long"
        )
    return note


def _live_session_lock(*, session_id: int) -> ServiceSession:
    # The seat is read after the lock, not joined: a joined row would be stale when a transfer or
    # close committed while we waited (only the session row is re-read then).
    session = (
        ServiceSession.objects.select_for_update(no_key=True, of=("self",))
        .select_related("customer")
        .filter(pk=session_id)
        .first()
    )
    if session is None:
        raise ApplicationError(_("No such session."), code="not_found", status=404)
    if session.state != ServiceSession.State.HUMAN or session.seat_id is None:
        raise ApplicationError(_("This session is not being served."), code="not_served", status=409)
    return session


def _seat_claim_forced(*, seat_id: int) -> Seat | None:
    """One unit of a seat's capacity even when full (a supervisor's explicit choice); never for an
    offline seat."""
    claimed = (
        Seat.objects.filter(pk=seat_id)
        .exclude(status=Seat.Status.OFFLINE)
        .update(active_sessions=F("active_sessions") + 1, last_assigned_at=timezone.now())
    )
    return Seat.objects.get(pk=seat_id) if claimed else None


def _queue_front_times(count: int) -> list[datetime]:
    """``count`` queue times ahead of everyone queued now, in order (one millisecond apart)."""
    head = ServiceSession.objects.filter(state=ServiceSession.State.QUEUED).aggregate(first=Min("queued_at"))["first"]
    start = (head or timezone.now()) - timedelta(milliseconds=count)
    return [start + timedelta(milliseconds=index) for index in range(count)]


def _requeue_locked(*, sessions: list[ServiceSession], note: str, why: str) -> None:
    """Put served sessions (locked, in the order given) back at the front of the queue, free their
    seats and tell each seat's console; the customers hear their position after commit."""
    now = timezone.now()
    for session, queued_at in zip(sessions, _queue_front_times(len(sessions)), strict=True):
        seat = session.seat
        if seat is None:  # the callers lock served sessions only
            continue
        session.state = ServiceSession.State.QUEUED
        session.seat = None
        session.queued_at = queued_at
        session.idle_since = now  # the queue timeout runs afresh from here
        session.idle_warned_at = None
        session.announced_position = None
        session.save(update_fields=["state", "seat", "queued_at", "idle_since", "idle_warned_at", "announced_position"])
        SessionEvent.objects.create(
            session=session, kind=SessionEvent.Kind.QUEUED, seat=seat, detail={"note": note, "by_supervisor": why}
        )
        event: SessionEventPayload = {
            "type": "session.transferred_out",
            "session_id": session.pk,
            "customer_id": session.customer_id,
            "customer_name": str(session.customer),
            "state": session.state,
            "detail": {"note": note, "requeued": True, "why": why, "from_seat": seat.display_name, "to_seat": ""},
        }
        event_to_seat(seat.pk, event)
        seat_release(seat_id=seat.pk)
    if sessions:
        transaction.on_commit(queue_announce_positions)
        queue_changed_publish()  # the consoles' queue panels show them at the front


@transaction.atomic
def session_supervisor_reassign(
    *, session_id: int, to_seat_id: int | None, note: str = "", force: bool = False
) -> ServiceSession:
    """Give a served session to another seat (as a transfer) or, with ``to_seat_id`` None, back to
    the front of the queue.

    1. Lock the session; it must be served by a seat.
    2. Lock both seat rows in id order (as a transfer does, so no deadlock with one).
    3. Claim one unit of the target's capacity: online and under capacity, or with ``force`` any
       seat not offline; refuse otherwise. Release the source's unit.
    4. Record and tell everyone as a transfer does (to a seat) or requeue it at the front.
    """
    note = _note_clean(note)
    session = _live_session_lock(session_id=session_id)
    from_seat = session.seat
    if from_seat is None:  # _live_session_lock refuses it; this tells mypy
        raise ApplicationError(_("This session is not being served."), code="not_served", status=409)
    if to_seat_id is None:
        _requeue_locked(sessions=[session], note=note, why="reassign")
        return session
    if to_seat_id == from_seat.pk:
        raise ApplicationError(_("That seat already serves this session."), code="same_seat")
    if not Seat.objects.filter(pk=to_seat_id).exists():
        raise ApplicationError(_("No such seat."), code="seat_not_found", status=404)
    list(Seat.objects.select_for_update(no_key=True).filter(pk__in=[from_seat.pk, to_seat_id]).order_by("pk"))
    to_seat = _seat_claim_forced(seat_id=to_seat_id) if force else seat_claim_one(seat_id=to_seat_id)
    if to_seat is None:
        code, status = ("seat_offline", 409) if force else ("seat_unavailable", 409)
        message = _("That servicer is offline.") if force else _("That servicer is not online or has no room.")
        raise ApplicationError(message, code=code, status=status)
    seat_release(seat_id=from_seat.pk)
    transfer_record_and_tell(session=session, from_seat=from_seat, to_seat=to_seat, note=note, by_supervisor=True)
    return session


@transaction.atomic
def seat_supervisor_status_set(*, seat_id: int, status: Seat.Status, requeue: bool, note: str = "") -> int:
    """A supervisor sets a seat's status; going offline or away with ``requeue`` sends its served
    sessions back to the front of the queue in the order they were assigned. Returns how many
    were requeued.

    The sessions are locked first, in id order: every action locks session rows before seat rows
    (a take-over or reassignment of one of them, holding its session and waiting for this seat,
    would otherwise deadlock with us). Then the status changes (so the queue drain that the requeue
    triggers never hands them back to this seat), and the seat's sessions are read again under
    the seat's lock, with any assigned in between, and requeued in assignment order."""
    note = _note_clean(note)
    seat = Seat.objects.filter(pk=seat_id).first()
    if seat is None:
        raise ApplicationError(_("No such seat."), code="seat_not_found", status=404)
    requeueing = requeue and status != Seat.Status.ONLINE
    served = (
        ServiceSession.objects.select_for_update(no_key=True, of=("self",))
        .select_related("customer")
        .filter(seat_id=seat_id, state=ServiceSession.State.HUMAN)
        .order_by("pk")
    )
    if requeueing:
        list(served.values_list("pk", flat=True))
    seat_status_set(seat=seat, status=status)
    if not requeueing:
        return 0
    locked = list(served.all())
    locked.sort(key=lambda session: (session.assigned_at or session.opened_at, session.pk))
    _requeue_locked(sessions=locked, note=note, why=str(status))
    return len(locked)


def supervisor_name(user: AbstractBaseUser) -> str:
    """How a supervisor is named to servicers and customers: their seat's name, else their own."""
    seat = Seat.objects.filter(user_id=user.pk).only("display_name").first()
    if seat is not None and seat.display_name:
        return seat.display_name
    return user.get_username()


@transaction.atomic
def session_supervisor_whisper(*, session_id: int, supervisor: AbstractBaseUser, text: str) -> Message:
    """A note only the serving servicer sees (and supervisors): written to the transcript as
    ``internal``, which sends it to the seat's console and to the session's monitors after
    commit. Nothing goes to the outbox: neither the customer nor any IM app gets it."""
    text = text.strip()
    if not text:
        raise ApplicationError(_("Write something to whisper."), code="empty_text")
    if len(text) > WHISPER_MAX_LENGTH:
        raise ApplicationError(
            _("A whisper holds at most %(max)s characters.") % {"max": WHISPER_MAX_LENGTH}, code="text_too_long"
        )
    session = _live_session_lock(session_id=session_id)
    seat = session.seat
    if seat is None:  # _live_session_lock refuses it; this tells mypy
        raise ApplicationError(_("This session is not being served."), code="not_served", status=409)
    by = {"name": supervisor_name(supervisor), "user_id": supervisor.pk}
    extra = json.dumps({"cs": {"whisper": by}}, ensure_ascii=False)
    return transcript_append(
        session=session,
        direction=Message.Direction.INTERNAL,
        author=Message.Author.SUPERVISOR,
        payload=text_payload(text, extra=extra),
        seat=seat,  # the servicer it was whispered to: only that seat's console shows it
    )


@transaction.atomic
def session_supervisor_take_over(*, session_id: int, supervisor: AbstractBaseUser, note: str = "") -> ServiceSession:
    """The supervisor serves the session from their own seat.

    1. The supervisor must have a seat (nothing is created implicitly).
    2. Lock the session (served by another seat), then both seats in id order, as a reassignment.
    3. Claim one unit of the supervisor's seat even over its capacity (a take-over is deliberate),
       never for an offline seat (no console would show the chat); release the old seat's unit.
    4. Record and tell as a transfer, marked ``take_over``: the customer hears the supervisor's
       name, the old servicer's console why the chat went.
    """
    note = _note_clean(note)
    own_seat_id = Seat.objects.filter(user_id=supervisor.pk).values_list("pk", flat=True).first()
    if own_seat_id is None:
        raise ApplicationError(
            _("You have no seat: a supervisor needs one to serve a customer."), code="no_seat", status=409
        )
    session = _live_session_lock(session_id=session_id)
    from_seat = session.seat
    if from_seat is None:  # _live_session_lock refuses it; this tells mypy
        raise ApplicationError(_("This session is not being served."), code="not_served", status=409)
    if from_seat.pk == own_seat_id:
        raise ApplicationError(_("You already serve this session."), code="same_seat", status=409)
    list(Seat.objects.select_for_update(no_key=True).filter(pk__in=[from_seat.pk, own_seat_id]).order_by("pk"))
    to_seat = _seat_claim_forced(seat_id=own_seat_id)
    if to_seat is None:
        raise ApplicationError(
            _("Your seat is offline: open the console (or set yourself online) first."),
            code="seat_offline",
            status=409,
        )
    seat_release(seat_id=from_seat.pk)
    transfer_record_and_tell(
        session=session, from_seat=from_seat, to_seat=to_seat, note=note, by_supervisor=True, take_over=True
    )
    return session
