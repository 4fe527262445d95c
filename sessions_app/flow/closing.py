"""Ending sessions: by the customer, the servicer, a supervisor, or the idle timers."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial

from django.db import connection, transaction
from django.utils import timezone

from cs_project.sql import json_param
from robots.wfprotocol import CsControl, control_payload, text_payload
from seats.models import Seat
from sessions_app.events import SessionEvent as SessionEventPayload
from sessions_app.events import event_to_seat, event_to_supervisors, queue_changed_publish, timeline_event
from sessions_app.flow.assignment import queue_announce_positions, seat_release
from sessions_app.flow.servicer_im import servicer_im_closed
from sessions_app.flow.transcript import customer_send_many, customer_signal, customer_tell
from sessions_app.hooks import rating_hooks
from sessions_app.models import ServiceSession, ServiceSettings, SessionEvent

logger = logging.getLogger(__name__)

Reason = ServiceSession.CloseReason


def session_close(
    *,
    session: ServiceSession,
    reason: Reason,
    config: ServiceSettings | None = None,
    announce_queue: bool = True,
    note: str = "",
) -> None:
    """Close an open session (the caller holds its row): tell the customer why, free the seat,
    and, when a human served it, fix the rated seat, send the rating prompt and tell the
    servicer's IM app. A queue timeout offers to leave a message instead: the customer's next
    text is kept as one (inbound).

    ``announce_queue=False`` leaves re-announcing the queue positions to the caller: a sweep that
    closes many queued sessions announces once at the end, not once per close (each announcement
    pass walks the whole queue).

    ``note`` is a supervisor's reason for ending it: kept on the timeline, told to the customer
    after the closing text and shown to the servicer's console."""
    if session.state == ServiceSession.State.CLOSED:
        return
    config = config or ServiceSettings.load()
    was_queued = session.state == ServiceSession.State.QUEUED
    ratings = rating_hooks()
    seat = session.seat if session.state == ServiceSession.State.HUMAN else None
    session.state = ServiceSession.State.CLOSED
    session.closed_at = timezone.now()
    session.close_reason = reason
    session.leaving_message = reason == Reason.QUEUE_TIMEOUT
    session.rated_seat = seat
    session.awaiting_rating_digit = seat is not None and ratings is not None
    session.save(
        update_fields=["state", "closed_at", "close_reason", "leaving_message", "rated_seat", "awaiting_rating_digit"]
    )
    closed_detail: dict[str, object] = {"reason": reason} | ({"note": note} if note else {})
    SessionEvent.objects.create(session=session, kind=SessionEvent.Kind.CLOSED, seat=seat, detail=closed_detail)
    if was_queued:
        queue_changed_publish()  # left, cancelled or timed out
    customer_tell(session=session, text=_close_text(reason, config, session.language))
    if note:
        customer_tell(session=session, text=note)
    signal: dict[str, object] = dict(closed_detail)
    url = ratings.link(session=session) if seat is not None and ratings is not None else None
    if url is not None:
        signal["rating_url"] = url
    customer_signal(session=session, kind=CsControl.SESSION_CLOSED, data=signal)
    if seat is not None and url is not None:
        prompt = config.text("rating_prompt_text", session.language)
        customer_tell(session=session, text=prompt.format(url=url, name=seat.display_name))
        customer_signal(
            session=session,
            kind=CsControl.RATING_REQUEST,
            data={
                "session": str(session.pk),
                "url": url,
                "servicer": {"id": str(seat.pk), "name": seat.display_name, "avatar": seat.avatar_url},
            },
        )
    if seat is not None:
        event: SessionEventPayload = {
            "type": "session.closed",
            "session_id": session.pk,
            "customer_id": session.customer_id,
            "customer_name": str(session.customer),
            "state": session.state,
            "detail": closed_detail,
        }
        event_to_seat(seat.pk, event)
        servicer_im_closed(session=session, seat=seat, reason=reason)
        seat_release(seat_id=seat.pk)
    if was_queued and announce_queue:
        transaction.on_commit(queue_announce_positions)


def _close_text(reason: Reason, config: ServiceSettings, language: str) -> str:
    """What the customer is told, in their language, when a session closes for ``reason``."""
    if reason == Reason.QUEUE_TIMEOUT:
        return config.text("queue_timeout_text", language)  # they waited for us: no "you did not reply"
    if reason == Reason.IDLE_TIMEOUT:
        return config.text("idle_closed_text", language)
    return config.text("closed_text", language)


def _idle_candidates(
    state: ServiceSession.State, *, idle_before: datetime, warned_before: datetime | None
) -> list[int]:
    """Not yet warned (``warned_before`` None), or warned before that time (their grace is over).

    Served by the (state, idle_since) index: the cost follows the idle count. Sessions whose clock
    is stopped (NULL: the servicer owes the reply) never match."""
    rows = ServiceSession.objects.filter(state=state, idle_since__lt=idle_before)
    if warned_before is None:
        rows = rows.filter(idle_warned_at__isnull=True)
    else:
        rows = rows.filter(idle_warned_at__lte=warned_before)
    return list(rows.values_list("pk", flat=True)[:5000])


SWEEP_BATCH = 200

BatchAction = Callable[[list[ServiceSession]], int]


def _each_locked(
    session_ids: list[int],
    state: ServiceSession.State,
    idle_before: datetime,
    act: BatchAction,
    *,
    fallback: Callable[[ServiceSession], bool] | None = None,
) -> int:
    """Lock the sessions still idle in ``state``, a batch per transaction, and ``act`` on the batch.
    A batch that fails is rolled back and logged; with a ``fallback`` it is done again one session
    at a time, so one bad session is left to the next sweep instead of the other 199 with it.
    Returns how many sessions were handled."""
    done = 0
    for start in range(0, len(session_ids), SWEEP_BATCH):
        ids = session_ids[start : start + SWEEP_BATCH]
        try:
            with transaction.atomic():
                done += act(_locked_batch(ids, state, idle_before))
        except Exception:
            logger.exception("idle sweep: a batch of %s sessions could not be handled", state)
            if fallback is not None:
                with transaction.atomic():
                    done += _one_by_one(fallback)(_locked_batch(ids, state, idle_before))
    return done


def _locked_batch(ids: list[int], state: ServiceSession.State, idle_before: datetime) -> list[ServiceSession]:
    """The sessions of ``ids`` still idle in ``state``, locked, with their customers and seats.

    skip_locked: a session a customer's message holds right now is not idle; the next sweep sees.
    The seats are read after the lock, not joined: a transfer that commits between this statement's
    snapshot and its lock makes PostgreSQL re-read the session row only (EvalPlanQual), and a joined
    seat row would be the old seat's, the one a close would then free (as session_supervisor_end
    learnt). One more statement per batch that has seats (human mode), none for bot or queue."""
    batch = list(
        ServiceSession.objects.select_for_update(no_key=True, skip_locked=True, of=("self",))
        .filter(pk__in=ids, state=state, idle_since__lt=idle_before)
        .select_related("customer")
        .order_by("pk")
    )
    seat_ids = {session.seat_id for session in batch if session.seat_id is not None}
    if seat_ids:
        seats = Seat.objects.in_bulk(seat_ids)
        for session in batch:
            if session.seat_id is not None:
                session.seat = seats[session.seat_id]
    return batch


def _one_by_one(act: Callable[[ServiceSession], bool]) -> BatchAction:
    """A per-session action over a batch, each in a savepoint: a failure is logged and leaves that
    session to the next sweep, and the others go on."""

    def each(batch: list[ServiceSession]) -> int:
        done = 0
        for session in batch:
            try:
                with transaction.atomic():
                    done += int(act(session))
            except Exception:
                logger.exception("idle sweep: session %s (%s) could not be handled", session.pk, session.state)
        return done

    return each


def _session_events_record(
    sessions: list[ServiceSession], kind: SessionEvent.Kind, *, detail: dict[str, object] | None = None
) -> None:
    """The same timeline event for many sessions (each with its seat), in one INSERT, and one event
    to the supervisors for the batch (the live view refreshes on any; a post_save per row would
    publish one per session)."""
    rows = json_param([{"s": session.pk, "t": session.seat_id} for session in sessions])
    table = SessionEvent._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (session_id, kind, at, seat_id, detail)"  # noqa: S608
            " SELECT (u.row->>'s')::bigint, %s, %s, (u.row->>'t')::bigint, %s"
            " FROM jsonb_array_elements(%s::jsonb) AS u(row)",
            [kind.value, timezone.now(), json_param(detail or {}), rows],
        )
    first = sessions[0]
    event_to_supervisors(timeline_event(session_id=first.pk, kind=kind, seat_id=first.seat_id))


def _by_language(sessions: list[ServiceSession]) -> dict[str, list[ServiceSession]]:
    """A batch split by the customers' language, each part sent its own texts (a few statements
    per language, whatever the batch's size)."""
    parts: dict[str, list[ServiceSession]] = defaultdict(list)
    for session in sessions:
        parts[session.language].append(session)
    return parts


def _warn_batch(batch: list[ServiceSession], *, now: datetime, config: ServiceSettings) -> int:
    """The idle warning to a whole batch: a few statements per language whatever its size."""
    to_warn = [session for session in batch if session.idle_warned_at is None]
    if not to_warn:
        return 0
    _session_events_record(to_warn, SessionEvent.Kind.IDLE_WARNED)
    for language, sessions in _by_language(to_warn).items():
        text = config.text("idle_warning_text", language).format(minutes=config.human_idle_close_minutes)
        customer_send_many(sessions, [text_payload(text)], session_changes={"idle_warned_at": now})
    return len(to_warn)


def _close_bot_batch(batch: list[ServiceSession], *, warned_before: datetime, config: ServiceSettings) -> int:
    """``session_close`` for idle sessions in bot mode, a batch at a time: no seat to free, no rating,
    so the same texts (per language) and signal in a few statements whatever the batch's size."""
    to_close = [s for s in batch if s.idle_warned_at is not None and s.idle_warned_at <= warned_before]
    if not to_close:
        return 0
    reason = Reason.IDLE_TIMEOUT
    _session_events_record(to_close, SessionEvent.Kind.CLOSED, detail={"reason": reason})
    closed_signal = control_payload(CsControl.SESSION_CLOSED, {"reason": reason})
    changes: dict[str, object] = {
        "state": ServiceSession.State.CLOSED,
        "closed_at": timezone.now(),
        "close_reason": reason,
        "leaving_message": False,
        "rated_seat": None,
        "awaiting_rating_digit": False,
    }
    for language, sessions in _by_language(to_close).items():
        payloads = [text_payload(_close_text(reason, config, language)), closed_signal]
        customer_send_many(sessions, payloads, session_changes=changes)
    return len(to_close)


def _close_idle(session: ServiceSession, *, warned_before: datetime, config: ServiceSettings) -> bool:
    if session.idle_warned_at is None or session.idle_warned_at > warned_before:
        return False
    session_close(session=session, reason=Reason.IDLE_TIMEOUT, config=config)
    return True


def _close_queued(session: ServiceSession, *, config: ServiceSettings) -> bool:
    session_close(session=session, reason=Reason.QUEUE_TIMEOUT, config=config, announce_queue=False)
    return True


def idle_sweep() -> dict[str, int]:
    """Warn, then close, idle sessions; separate timers for bot mode, human mode and the queue.

    1. Bot and human mode: the customer owes the reply (the idle clock runs): warn after the
       mode's timer, close after the grace period that follows the warning.
    2. The queue: the customer is waiting for us, so there is no warning; closed at the queue
       timeout with its own text and an offer to leave a message.

    Sessions are locked and handled a batch per transaction, warnings and bot-mode closes by the
    set (a few statements per batch of 200); closes that free a seat or ask for a rating go one
    session at a time. The messages they send are picked up by the outbox deliverer as each batch
    commits (docs/benchmarks.md, idle sweep).
    """
    config = ServiceSettings.load()
    now = timezone.now()
    counts = {"warned": 0, "closed": 0}
    grace = timedelta(minutes=config.human_idle_close_minutes)
    timers = (
        (ServiceSession.State.BOT, timedelta(minutes=config.bot_idle_minutes)),
        (ServiceSession.State.HUMAN, timedelta(minutes=config.human_idle_warning_minutes)),
    )
    warn = partial(_warn_batch, now=now, config=config)
    close_one = partial(_close_idle, warned_before=now - grace, config=config)
    for state, warn_after in timers:
        to_warn = _idle_candidates(state, idle_before=now - warn_after, warned_before=None)
        counts["warned"] += _each_locked(
            to_warn, state, now - warn_after, warn, fallback=lambda session: warn([session]) == 1
        )
        to_close = _idle_candidates(state, idle_before=now - warn_after - grace, warned_before=now - grace)
        close: BatchAction = (
            partial(_close_bot_batch, warned_before=now - grace, config=config)
            if state == ServiceSession.State.BOT
            else _one_by_one(close_one)
        )
        counts["closed"] += _each_locked(to_close, state, now - warn_after - grace, close, fallback=close_one)
    queue_timeout = timedelta(minutes=config.queue_timeout_minutes)
    queued = ServiceSession.State.QUEUED
    timed_out = ServiceSession.objects.filter(state=queued, idle_since__lt=now - queue_timeout)
    closed_queued = _each_locked(
        list(timed_out.values_list("pk", flat=True)[:5000]),
        queued,
        now - queue_timeout,
        _one_by_one(partial(_close_queued, config=config)),
    )
    counts["closed"] += closed_queued
    if closed_queued:
        queue_announce_positions()  # once for all the queued sessions closed above
    if counts["warned"] or counts["closed"]:
        logger.info("idle sweep: %(warned)d warned, %(closed)d closed", counts)
    return counts


def session_supervisor_end(*, session_id: int, note: str = "") -> bool:
    """A supervisor ends a session (admin or live view) with an optional reason the customer and
    the servicer see; False when it had already ended."""
    with transaction.atomic():
        session = (
            # Not the seat by join: a transfer committed while we waited for the lock would leave
            # the joined seat row stale (only the session row is re-read), and the wrong seat freed.
            ServiceSession.objects.select_for_update(no_key=True, of=("self",))
            .select_related("customer")
            .filter(pk=session_id)
            .exclude(state=ServiceSession.State.CLOSED)
            .first()
        )
        if session is None:
            return False
        session_close(session=session, reason=Reason.SUPERVISOR_END, note=note.strip())
        return True
