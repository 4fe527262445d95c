"""Figures for the supervisors' reports, aggregated in PostgreSQL.

Every figure is about the sessions *opened* in the period, in local time (``CS_TIME_ZONE``);
the written definitions are in docs/reports.md and on the reports page.

Seat segments are the human part of a session, split by seat, derived from the timeline:

1. A segment starts at an ASSIGNED or TRANSFERRED event naming a seat (for a transfer, the seat
   that receives the session), unless the previous such event of the session named the same seat.
2. It ends at the session's next event that is CLOSED, or ASSIGNED/TRANSFERRED naming another
   seat (or no seat: back to the queue).
3. Bot time and queue time lie outside every segment, so they never count as anyone's work.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypedDict

from django.db.models import (
    Avg,
    BigIntegerField,
    Count,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.expressions import CombinedExpression
from django.db.models.functions import Coalesce, ExtractHour, TruncDate
from django.utils import timezone

from seats.models import Seat
from sessions_app.models import Message, ServiceSession, SessionEvent
from sessions_app.reports.period import Period

Kind = SessionEvent.Kind
Reason = ServiceSession.CloseReason
SEGMENT_STARTS = (Kind.ASSIGNED, Kind.TRANSFERRED)
# Closed before any seat took the session, by the customer's doing or the queue timer's.
ABANDON_REASONS = (Reason.QUEUE_CANCELLED, Reason.QUEUE_TIMEOUT, Reason.CUSTOMER_EXIT)
FAST_REPLY = timedelta(seconds=60)
# The queue-wait histogram's buckets, in seconds: [lower, upper); the last one is open.
WAIT_BUCKETS: tuple[tuple[int, int | None], ...] = ((0, 30), (30, 60), (60, 180), (180, 300), (300, 600), (600, None))
_FAR_FUTURE = datetime(9999, 1, 1, tzinfo=UTC)


class DayRow(TypedDict):
    day: date
    opened: int
    bot_only: int
    to_human: int
    served: int
    abandoned: int


class HourRow(TypedDict):
    hour: int
    opened: int
    to_human: int


class QueueSummary(TypedDict):
    requests: int
    served: int
    served_at_once: int
    abandoned: int
    waiting_now: int
    avg_wait: float | None
    max_wait: float | None
    avg_abandon_wait: float | None


class WaitBucket(TypedDict):
    lower: int
    upper: int | None
    served: int
    abandoned: int


class SeatRow(TypedDict):
    seat_id: int
    seat: str
    segments: int
    answered: int
    fast_answered: int
    avg_first_response: float | None
    max_first_response: float | None
    completed: int
    avg_handling: float | None
    transferred_away: int


class RatingRow(TypedDict):
    seat_id: int
    seat: str
    offered: int
    rated: int
    average: float | None
    scores: list[int]  # how many 1, 2, 3, 4 and 5 star ratings


class AbandonRow(TypedDict):
    reason: str
    label: str
    count: int
    avg_wait: float | None


def _seconds(value: timedelta | None) -> float | None:
    return None if value is None else round(value.total_seconds(), 1)


def _duration(end: str, start: str) -> ExpressionWrapper[CombinedExpression]:
    return ExpressionWrapper(F(end) - F(start), output_field=DurationField())


def scope_seats(period: Period) -> QuerySet[Seat] | None:
    """The seats a report is narrowed to (one seat), or None for all."""
    if period.seat_id is not None:
        return Seat.objects.filter(pk=period.seat_id)
    return None


def sessions_in(period: Period) -> QuerySet[ServiceSession]:
    """The sessions opened in the period; with a skill group, those whose customer chose it; with a
    seat, those the seat served."""
    sessions = ServiceSession.objects.filter(opened_at__gte=period.start, opened_at__lt=period.end)
    if period.group_id is not None:
        sessions = sessions.filter(skill_group_id=period.group_id)
    seats = scope_seats(period)
    if seats is not None:
        served = SessionEvent.objects.filter(session=OuterRef("pk"), kind__in=SEGMENT_STARTS, seat__in=seats)
        sessions = sessions.filter(Exists(served))
    return sessions.order_by()


def abandoned_q() -> Q:
    """Asked for a human, never assigned, closed by the customer or the queue timer."""
    return Q(
        state=ServiceSession.State.CLOSED,
        queued_at__isnull=False,
        assigned_at__isnull=True,
        close_reason__in=ABANDON_REASONS,
    )


def session_counts() -> dict[str, Count]:
    return {
        "opened": Count("pk"),
        "to_human": Count("pk", filter=Q(queued_at__isnull=False)),
        "served": Count("pk", filter=Q(assigned_at__isnull=False)),
        "abandoned": Count("pk", filter=abandoned_q()),
    }


def _counted_by(key: str, sessions: QuerySet[ServiceSession]) -> dict[Any, dict[str, int]]:
    """``session_counts()`` grouped by an annotation of ``sessions``: {key value: {figure: count}}."""
    grouped: dict[Any, dict[str, int]] = {}
    for row in sessions.values(key).annotate(**session_counts()):
        figures: dict[str, Any] = dict(row)
        grouped[figures.pop(key)] = figures
    return grouped


def sessions_per_day(period: Period) -> list[DayRow]:
    local_day = TruncDate("opened_at", tzinfo=timezone.get_current_timezone())
    rows = _counted_by("day", sessions_in(period).annotate(day=local_day))
    result: list[DayRow] = []
    for day in period.days():
        row = rows.get(day, dict.fromkeys(session_counts(), 0))
        result.append(
            DayRow(
                day=day,
                opened=row["opened"],
                bot_only=row["opened"] - row["to_human"],
                to_human=row["to_human"],
                served=row["served"],
                abandoned=row["abandoned"],
            )
        )
    return result


def sessions_per_hour(period: Period) -> list[HourRow]:
    local_hour = ExtractHour("opened_at", tzinfo=timezone.get_current_timezone())
    rows = _counted_by("hour", sessions_in(period).annotate(hour=local_hour))
    empty = dict.fromkeys(session_counts(), 0)
    return [
        HourRow(hour=hour, opened=rows.get(hour, empty)["opened"], to_human=rows.get(hour, empty)["to_human"])
        for hour in range(24)
    ]


def _human_requests(period: Period) -> QuerySet[ServiceSession]:
    """Sessions that asked for a human, with the first assignment and how long the queue took."""
    first_assignment = (
        SessionEvent.objects.filter(session=OuterRef("pk"), kind=Kind.ASSIGNED).order_by("at", "pk").values("at")[:1]
    )
    return (
        sessions_in(period)
        .filter(queued_at__isnull=False)
        .annotate(
            first_assigned_at=Subquery(first_assignment),
            waited=Exists(SessionEvent.objects.filter(session=OuterRef("pk"), kind=Kind.QUEUED)),
        )
        .annotate(wait=_duration("first_assigned_at", "queued_at"), abandon_wait=_duration("closed_at", "queued_at"))
    )


def queue_summary(period: Period) -> QueueSummary:
    served = Q(first_assigned_at__isnull=False)
    figures = _human_requests(period).aggregate(
        requests=Count("pk"),
        served=Count("pk", filter=served),
        served_at_once=Count("pk", filter=served & Q(waited=False)),
        abandoned=Count("pk", filter=abandoned_q()),
        waiting_now=Count("pk", filter=Q(state=ServiceSession.State.QUEUED)),
        avg_wait=Avg("wait", filter=served),
        max_wait=Max("wait", filter=served),
        avg_abandon_wait=Avg("abandon_wait", filter=abandoned_q()),
    )
    return QueueSummary(
        requests=figures["requests"],
        served=figures["served"],
        served_at_once=figures["served_at_once"],
        abandoned=figures["abandoned"],
        waiting_now=figures["waiting_now"],
        avg_wait=_seconds(figures["avg_wait"]),
        max_wait=_seconds(figures["max_wait"]),
        avg_abandon_wait=_seconds(figures["avg_abandon_wait"]),
    )


def _in_bucket(field: str, lower: int, upper: int | None) -> Q:
    bounds = Q(**{f"{field}__gte": timedelta(seconds=lower)})
    if upper is not None:
        bounds &= Q(**{f"{field}__lt": timedelta(seconds=upper)})
    return bounds


def queue_wait_buckets(period: Period) -> list[WaitBucket]:
    """How long customers waited, served and abandoned, in the buckets of ``WAIT_BUCKETS``."""
    served, abandoned = Q(first_assigned_at__isnull=False), abandoned_q()
    aggregates: dict[str, Count] = {}
    for index, (lower, upper) in enumerate(WAIT_BUCKETS):
        aggregates[f"served_{index}"] = Count("pk", filter=served & _in_bucket("wait", lower, upper))
        aggregates[f"abandoned_{index}"] = Count("pk", filter=abandoned & _in_bucket("abandon_wait", lower, upper))
    figures = _human_requests(period).aggregate(**aggregates)
    return [
        WaitBucket(lower=lower, upper=upper, served=figures[f"served_{i}"], abandoned=figures[f"abandoned_{i}"])
        for i, (lower, upper) in enumerate(WAIT_BUCKETS)
    ]


def seat_segments(sessions: QuerySet[ServiceSession]) -> QuerySet[SessionEvent]:
    """One row per seat segment of these sessions: the starting event, annotated with ``end_at``,
    ``end_kind``, ``first_reply_at`` (the seat's first message in the segment), ``first_response``
    and ``handling`` (durations; None while unknown)."""
    before = Q(at__lt=OuterRef("at")) | Q(at=OuterRef("at"), pk__lt=OuterRef("pk"))
    after = Q(at__gt=OuterRef("at")) | Q(at=OuterRef("at"), pk__gt=OuterRef("pk"))
    previous_seat = (
        SessionEvent.objects.filter(before, session=OuterRef("session"), kind__in=SEGMENT_STARTS)
        .order_by("-at", "-pk")
        .values("seat")[:1]
    )
    ending = (
        SessionEvent.objects.filter(after, session=OuterRef("session"))
        .filter(Q(kind=Kind.CLOSED) | (Q(kind__in=SEGMENT_STARTS) & ~Q(seat=OuterRef("seat"))))
        .order_by("at", "pk")
    )
    first_reply = (
        Message.objects.filter(
            session=OuterRef("session"),
            author=Message.Author.SERVICER,
            seat=OuterRef("seat"),
            created_at__gte=OuterRef("at"),
            created_at__lt=Coalesce(OuterRef("end_at"), Value(_FAR_FUTURE)),
        )
        .order_by("created_at", "pk")
        .values("created_at")[:1]
    )
    return (
        SessionEvent.objects.filter(kind__in=SEGMENT_STARTS, seat__isnull=False, session__in=sessions.values("pk"))
        .annotate(previous_seat=Coalesce(Subquery(previous_seat), Value(0), output_field=BigIntegerField()))
        .exclude(previous_seat=F("seat"))
        .annotate(end_at=Subquery(ending.values("at")[:1]), end_kind=Subquery(ending.values("kind")[:1]))
        .annotate(first_reply_at=Subquery(first_reply))
        .annotate(first_response=_duration("first_reply_at", "at"), handling=_duration("end_at", "at"))
        .order_by()
    )


def seat_figures(period: Period) -> list[SeatRow]:
    segments = seat_segments(sessions_in(period))
    seats = scope_seats(period)
    if seats is not None:  # a transferred session's other seats are not the chosen ones
        segments = segments.filter(seat__in=seats)
    rows = segments.values("seat").annotate(
        segments=Count("pk"),
        answered=Count("first_reply_at"),
        fast_answered=Count("pk", filter=Q(first_response__lte=FAST_REPLY)),
        avg_first_response=Avg("first_response"),
        max_first_response=Max("first_response"),
        completed=Count("end_at"),
        avg_handling=Avg("handling"),
        transferred_away=Count("pk", filter=Q(end_kind__in=SEGMENT_STARTS)),
    )
    names = dict(Seat.objects.values_list("pk", "display_name"))
    result = [
        SeatRow(
            seat_id=row["seat"],
            seat=names.get(row["seat"], str(row["seat"])),
            segments=row["segments"],
            answered=row["answered"],
            fast_answered=row["fast_answered"],
            avg_first_response=_seconds(row["avg_first_response"]),
            max_first_response=_seconds(row["max_first_response"]),
            completed=row["completed"],
            avg_handling=_seconds(row["avg_handling"]),
            transferred_away=row["transferred_away"],
        )
        for row in rows
    ]
    return sorted(result, key=lambda row: row["seat"])


def ratings_per_seat(period: Period) -> list[RatingRow]:
    """Ratings of the period's sessions, credited to the seat fixed when the prompt was sent."""
    scores = {f"score_{n}": Count("rating", filter=Q(rating__score=n)) for n in range(1, 6)}
    rated = sessions_in(period).filter(rated_seat__isnull=False)
    seats = scope_seats(period)
    if seats is not None:
        rated = rated.filter(rated_seat__in=seats)
    rows = rated.values("rated_seat", "rated_seat__display_name").annotate(
        offered=Count("pk"), rated=Count("rating"), average=Avg("rating__score"), **scores
    )
    result: list[RatingRow] = []
    for row in rows:
        figures: dict[str, Any] = dict(row)
        average = figures["average"]
        result.append(
            RatingRow(
                seat_id=figures["rated_seat"],
                seat=figures["rated_seat__display_name"],
                offered=figures["offered"],
                rated=figures["rated"],
                average=None if average is None else round(float(average), 2),
                scores=[figures[f"score_{n}"] for n in range(1, 6)],
            )
        )
    return sorted(result, key=lambda row: row["seat"])


def abandoned_by_reason(period: Period) -> list[AbandonRow]:
    rows: dict[str, tuple[int, timedelta | None]] = {
        row["close_reason"]: (row["count"], row["avg_wait"])
        for row in sessions_in(period)
        .filter(abandoned_q())
        .values("close_reason")
        .annotate(count=Count("pk"), avg_wait=Avg(_duration("closed_at", "queued_at")))
    }
    result: list[AbandonRow] = []
    for reason in ABANDON_REASONS:
        count, avg_wait = rows.get(reason.value, (0, None))
        result.append(
            AbandonRow(reason=reason.value, label=str(reason.label), count=count, avg_wait=_seconds(avg_wait))
        )
    return result


@dataclass(frozen=True)
class Report:
    period: Period
    days: list[DayRow]
    hours: list[HourRow]
    queue: QueueSummary
    waits: list[WaitBucket]
    seats: list[SeatRow]
    ratings: list[RatingRow]
    abandoned: list[AbandonRow]


def report_build(period: Period) -> Report:
    return Report(
        period=period,
        days=sessions_per_day(period),
        hours=sessions_per_hour(period),
        queue=queue_summary(period),
        waits=queue_wait_buckets(period),
        seats=seat_figures(period),
        ratings=ratings_per_seat(period),
        abandoned=abandoned_by_reason(period),
    )
