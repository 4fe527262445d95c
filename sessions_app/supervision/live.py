"""Reads for the supervisors' live view (who counts as a supervisor: ``seats.services.user_may_supervise``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TypedDict

from django.db.models import Avg, Count, F, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from seats.models import Seat
from sessions_app.events import MessageEvent, message_event
from sessions_app.flow.assignment import queue_positions, session_overflowed
from sessions_app.models import Message, ServiceSession
from sessions_app.reports.figures import queue_summary, seat_segments, session_counts, sessions_in
from sessions_app.reports.period import Period

LIVE_ROWS_LIMIT = 200
MONITOR_MESSAGES_LIMIT = 500


class TodayCounts(TypedDict):
    opened: int
    to_human: int
    served: int
    abandoned: int
    rated: int
    rating_average: float | None
    avg_wait: float | None
    avg_first_response: float | None


class GroupQueue(TypedDict):
    group_id: int | None
    name: str  # empty: the customers who chose no skill group
    waiting: int


@dataclass(frozen=True)
class QueuedRow:
    session: ServiceSession
    position: int  # the one the customer is told (assignment.queue_positions)


@dataclass(frozen=True)
class LiveSnapshot:
    now: datetime
    seats: list[Seat]
    queue: list[QueuedRow]
    in_progress: list[ServiceSession]
    queued_total: int
    in_progress_total: int
    today: TodayCounts
    # Waiting customers per skill group, the groups in menu order, those of no group last; empty
    # when nobody waiting chose a group.
    queue_by_group: list[GroupQueue]


def today_counts() -> TodayCounts:
    today = Period.last_days(1)
    figures = sessions_in(today).aggregate(
        **session_counts(), rated=Count("rating"), rating_average=Avg("rating__score")
    )
    first_response = seat_segments(sessions_in(today)).aggregate(average=Avg("first_response"))["average"]
    average = figures["rating_average"]
    return TodayCounts(
        opened=figures["opened"],
        to_human=figures["to_human"],
        served=figures["served"],
        abandoned=figures["abandoned"],
        rated=figures["rated"],
        rating_average=None if average is None else round(float(average), 2),
        avg_wait=queue_summary(today)["avg_wait"],
        avg_first_response=None if first_response is None else round(first_response.total_seconds(), 1),
    )


def _open_sessions(state: ServiceSession.State) -> QuerySet[ServiceSession]:
    return ServiceSession.objects.filter(state=state).select_related("customer", "seat", "skill_group")


def queue_by_group() -> list[GroupQueue]:
    """How many customers wait in each skill group's queue (groups with nobody waiting left out)."""
    rows = (
        ServiceSession.objects.filter(state=ServiceSession.State.QUEUED)
        .values("skill_group", "skill_group__name", "skill_group__menu_order")
        .annotate(waiting=Count("pk"))
        .order_by(F("skill_group__menu_order").asc(nulls_last=True), "skill_group__name")
    )
    groups = [
        GroupQueue(group_id=row["skill_group"], name=row["skill_group__name"] or "", waiting=row["waiting"])
        for row in rows
    ]
    return groups if any(group["group_id"] is not None for group in groups) else []


def live_snapshot() -> LiveSnapshot:
    """Every seat, the queue oldest first, the sessions in progress, and today's counts."""
    queue = _open_sessions(ServiceSession.State.QUEUED).order_by("queued_at", "pk")
    in_progress = _open_sessions(ServiceSession.State.HUMAN).order_by("assigned_at", "pk")
    seats = Seat.objects.select_related("user").prefetch_related("skill_groups").order_by("display_name", "pk")
    now = timezone.now()
    queued = list(queue[:LIVE_ROWS_LIMIT])  # the oldest: their positions count only older customers
    positions = queue_positions(
        (session.pk, session.skill_group_id, session_overflowed(session=session, now=now)) for session in queued
    )
    return LiveSnapshot(
        now=now,
        seats=list(seats),
        queue=[QueuedRow(session=session, position=positions[session.pk]) for session in queued],
        in_progress=list(in_progress[:LIVE_ROWS_LIMIT]),
        queued_total=queue.count(),
        in_progress_total=in_progress.count(),
        today=today_counts(),
        queue_by_group=queue_by_group(),
    )


class MonitoredSession(TypedDict):
    id: int
    state: str
    state_label: str
    customer_name: str
    seat_id: int | None
    seat_name: str
    last_seq: int


class MonitorRead(TypedDict):
    """A monitored session and its messages after a sequence number, whispers included, in the
    form of the live ``message.new`` events (one renderer for both)."""

    session: MonitoredSession
    messages: list[MessageEvent]
    more: bool
    # Served by the reader's own seat (after a take-over): answered in the console, not whispered to.
    yours: bool


def session_monitor_read(*, session_id: int, reader_id: int, after_seq: int = 0) -> MonitorRead | None:
    session = ServiceSession.objects.select_related("customer", "seat").filter(pk=session_id).first()
    if session is None:
        return None
    rows = list(
        Message.objects.filter(session=session, seq__gt=after_seq).order_by("seq")[: MONITOR_MESSAGES_LIMIT + 1]
    )
    return {
        "session": {
            "id": session.pk,
            "state": session.state,
            "state_label": str(ServiceSession.State(session.state).label),
            "customer_name": str(session.customer),
            "seat_id": session.seat_id,
            "seat_name": session.seat.display_name if session.seat is not None else "",
            "last_seq": session.last_seq,
        },
        "messages": [message_event(row) for row in rows[:MONITOR_MESSAGES_LIMIT]],
        "more": len(rows) > MONITOR_MESSAGES_LIMIT,
        "yours": session.seat is not None and session.seat.user_id == reader_id,
    }


def monitor_strings() -> dict[str, str]:
    """The monitor's words for its script (``json_script``); placeholders are ``%(name)s``."""
    return {
        "customer": _("Customer"),
        "servicer": _("Servicer"),
        "bot": _("Bot"),
        "system": _("System"),
        "whisper": _("Whisper from %(name)s (only the servicer sees it)"),
        "image": _("[Image]"),
        "file": _("[File]"),
        "other": _("[Message of type %(type)s]"),
        "serving": _("Served by %(seat)s"),
        "notServed": _("No longer served: %(state)s"),
        "failed": _("Could not load this chat. Retrying…"),
    }
