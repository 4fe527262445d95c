"""Ending sessions: by the customer, the servicer, a supervisor, or the idle timers."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from ratings.services import rating_url
from robots.wfprotocol import CsControl
from sessions_app.events import SessionEvent as SessionEventPayload
from sessions_app.events import event_to_seat
from sessions_app.models import ServiceSession, ServiceSettings, SessionEvent
from sessions_app.services.assignment import queue_announce_positions, seat_release
from sessions_app.services.transcript import customer_signal, customer_tell

logger = logging.getLogger(__name__)

Reason = ServiceSession.CloseReason


def session_close(
    *, session: ServiceSession, reason: Reason, config: ServiceSettings | None = None, announce_queue: bool = True
) -> None:
    """Close an open session (the caller holds its row): tell the customer why, free the seat,
    and, when a human served it, fix the rated seat and send the rating prompt.

    ``announce_queue=False`` leaves re-announcing the queue positions to the caller: a sweep that
    closes many queued sessions announces once at the end, not once per close (each announcement
    pass walks the whole queue)."""
    if session.state == ServiceSession.State.CLOSED:
        return
    config = config or ServiceSettings.load()
    was_queued = session.state == ServiceSession.State.QUEUED
    seat = session.seat if session.state == ServiceSession.State.HUMAN else None
    session.state = ServiceSession.State.CLOSED
    session.closed_at = timezone.now()
    session.close_reason = reason
    session.leaving_message = False
    session.rated_seat = seat
    session.awaiting_rating_digit = seat is not None
    session.save(
        update_fields=["state", "closed_at", "close_reason", "leaving_message", "rated_seat", "awaiting_rating_digit"]
    )
    SessionEvent.objects.create(session=session, kind=SessionEvent.Kind.CLOSED, seat=seat, detail={"reason": reason})
    text = config.idle_closed_text if reason in (Reason.IDLE_TIMEOUT, Reason.QUEUE_TIMEOUT) else config.closed_text
    customer_tell(session=session, text=text)
    signal: dict[str, object] = {"reason": reason}
    if seat is not None:
        url = rating_url(session=session)
        signal["rating_url"] = url
        customer_signal(session=session, kind=CsControl.SESSION_CLOSED, data=signal)
        customer_tell(session=session, text=config.rating_prompt_text.format(url=url, name=seat.display_name))
        customer_signal(
            session=session,
            kind=CsControl.RATING_REQUEST,
            data={
                "session": str(session.pk),
                "url": url,
                "servicer": {"id": str(seat.pk), "name": seat.display_name, "avatar": seat.avatar_url},
            },
        )
        event: SessionEventPayload = {
            "type": "session.closed",
            "session_id": session.pk,
            "customer_id": session.customer_id,
            "customer_name": str(session.customer),
            "state": session.state,
            "detail": {"reason": reason},
        }
        event_to_seat(seat.pk, event)
        seat_release(seat_id=seat.pk)
    else:
        customer_signal(session=session, kind=CsControl.SESSION_CLOSED, data=signal)
    if was_queued and announce_queue:
        transaction.on_commit(queue_announce_positions)


def _idle_candidates(
    state: ServiceSession.State, *, inactive_since: datetime, warned_before: datetime | None
) -> list[int]:
    """Not yet warned (``warned_before`` None), or warned before that time (their grace is over).

    Served by the (state, last_customer_activity_at) index: the cost follows the idle count."""
    rows = ServiceSession.objects.filter(state=state, last_customer_activity_at__lt=inactive_since)
    if warned_before is None:
        rows = rows.filter(idle_warned_at__isnull=True)
    else:
        rows = rows.filter(idle_warned_at__lte=warned_before)
    return list(rows.values_list("pk", flat=True)[:5000])


def _with_locked(session_id: int, state: ServiceSession.State, inactive_since: datetime) -> ServiceSession | None:
    """Lock a session if it is still idle in that state (a new message may have arrived since)."""
    return (
        ServiceSession.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(pk=session_id, state=state, last_customer_activity_at__lt=inactive_since)
        .select_related("customer", "seat")
        .first()
    )


def idle_sweep() -> dict[str, int]:
    """Warn, then close, idle sessions; separate timers for bot mode, the queue and human mode."""
    config = ServiceSettings.load()
    now = timezone.now()
    counts = {"warned": 0, "closed": 0}
    closed_queued = False
    grace = timedelta(minutes=config.human_idle_close_minutes)
    timers = (
        (ServiceSession.State.BOT, timedelta(minutes=config.bot_idle_minutes), Reason.IDLE_TIMEOUT),
        (ServiceSession.State.HUMAN, timedelta(minutes=config.human_idle_warning_minutes), Reason.IDLE_TIMEOUT),
        (ServiceSession.State.QUEUED, timedelta(minutes=config.queue_timeout_minutes), Reason.QUEUE_TIMEOUT),
    )
    for state, warn_after, reason in timers:
        for session_id in _idle_candidates(state, inactive_since=now - warn_after, warned_before=None):
            with transaction.atomic():
                session = _with_locked(session_id, state, now - warn_after)
                if session is None or session.idle_warned_at is not None:
                    continue
                session.idle_warned_at = now
                session.save(update_fields=["idle_warned_at"])
                SessionEvent.objects.create(session=session, kind=SessionEvent.Kind.IDLE_WARNED, seat=session.seat)
                customer_tell(
                    session=session, text=config.idle_warning_text.format(minutes=config.human_idle_close_minutes)
                )
                counts["warned"] += 1
        for session_id in _idle_candidates(state, inactive_since=now - warn_after - grace, warned_before=now - grace):
            with transaction.atomic():
                session = _with_locked(session_id, state, now - warn_after - grace)
                if session is None or session.idle_warned_at is None or session.idle_warned_at > now - grace:
                    continue
                session_close(session=session, reason=reason, config=config, announce_queue=False)
                counts["closed"] += 1
                closed_queued = closed_queued or state == ServiceSession.State.QUEUED
    if closed_queued:
        queue_announce_positions()  # once for all the queued sessions closed above
    if counts["warned"] or counts["closed"]:
        logger.info("idle sweep: %(warned)d warned, %(closed)d closed", counts)
    return counts


def session_supervisor_end(*, session_id: int) -> bool:
    """A supervisor ends a session from the admin; False when it had already ended."""
    with transaction.atomic():
        session = (
            ServiceSession.objects.select_for_update(of=("self",))
            .select_related("customer", "seat")
            .filter(pk=session_id)
            .exclude(state=ServiceSession.State.CLOSED)
            .first()
        )
        if session is None:
            return False
        session_close(session=session, reason=Reason.SUPERVISOR_END)
        return True
