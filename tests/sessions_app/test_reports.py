"""Report figures against values computed by hand on a fixed dataset.

Two days, 2024-03-04 and 2024-03-05, in Asia/Shanghai; Alice and Bob are the seats. Every
session and its timeline is written out below with the figures it should produce.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from pytest_django.fixtures import Settings as SettingsWrapper

from ratings.models import Rating
from seats.models import Seat
from sessions_app.models import ServiceSession, SessionEvent
from sessions_app.reports import figures as reports
from sessions_app.reports.period import Period
from tests.factories import assignment_at, event_at, reply_at, timed_session, transfer_at

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
PERIOD = Period(date(2024, 3, 4), date(2024, 3, 5))
Reason = ServiceSession.CloseReason


def at(day: int, clock: str) -> datetime:
    hours, minutes, seconds = (int(part) for part in clock.split(":"))
    return datetime(2024, 3, day, hours, minutes, seconds, tzinfo=SHANGHAI)


def _seconds(segment: SessionEvent, duration: str) -> float:
    """A duration annotated by ``reports.seat_segments``, in seconds."""
    value: timedelta = getattr(segment, duration)
    return value.total_seconds()


def rate(session: ServiceSession, seat: Seat, score: int) -> None:
    Rating.objects.create(session=session, seat=seat, score=score, channel=Rating.Channel.FORM)


@pytest.fixture(autouse=True)
def _shanghai(settings: SettingsWrapper) -> None:
    settings.TIME_ZONE = "Asia/Shanghai"


@pytest.fixture
def dataset(servicer_seat: Seat, other_servicer_seat: Seat) -> dict[str, ServiceSession]:
    alice, bob = servicer_seat, other_servicer_seat
    s: dict[str, ServiceSession] = {}
    # Outside the period (the day before, the day after): must not count anywhere.
    s["before"] = timed_session(
        opened=at(3, "23:59:00"), queued=at(3, "23:59:10"), closed=at(4, "00:30:00"), reason=Reason.SERVICER_END
    )
    assignment_at(s["before"], alice, at(3, "23:59:10"))
    reply_at(s["before"], alice, at(3, "23:59:20"))
    ServiceSession.objects.filter(pk=s["before"].pk).update(rated_seat=alice)
    rate(s["before"], alice, 1)
    s["after"] = timed_session(opened=at(6, "00:00:00"), queued=at(6, "00:00:00"))
    # Day 1.
    # S1: bot only.
    s["s1"] = timed_session(opened=at(4, "09:00:00"), closed=at(4, "09:05:00"), reason=Reason.IDLE_TIMEOUT)
    # S2: Alice at once; first reply after 30 s; closed 9 min after assignment; rated 5.
    s["s2"] = timed_session(
        opened=at(4, "09:10:00"),
        queued=at(4, "09:11:00"),
        closed=at(4, "09:20:00"),
        reason=Reason.SERVICER_END,
        rated_seat=alice,
    )
    assignment_at(s["s2"], alice, at(4, "09:11:00"))
    reply_at(s["s2"], alice, at(4, "09:11:30"))
    reply_at(s["s2"], alice, at(4, "09:12:00"))
    rate(s["s2"], alice, 5)
    # S3: queued 2 min, Bob answers after 90 s, transfers to Alice after 7 min; she answers after
    # 20 s and the customer leaves 10 min after the transfer; rated 3, credited to Alice.
    s["s3"] = timed_session(
        opened=at(4, "10:00:00"),
        queued=at(4, "10:01:00"),
        closed=at(4, "10:20:00"),
        reason=Reason.CUSTOMER_EXIT,
        rated_seat=alice,
    )
    assignment_at(s["s3"], bob, at(4, "10:03:00"), waited=True)
    reply_at(s["s3"], bob, at(4, "10:04:30"))
    transfer_at(s["s3"], bob, alice, at(4, "10:10:00"))
    reply_at(s["s3"], alice, at(4, "10:10:20"))
    rate(s["s3"], alice, 3)
    # S4: left the queue after 2 min.
    s["s4"] = timed_session(
        opened=at(4, "10:30:00"), queued=at(4, "10:31:00"), closed=at(4, "10:33:00"), reason=Reason.QUEUE_CANCELLED
    )
    event_at(s["s4"], SessionEvent.Kind.QUEUED, at(4, "10:31:00"))
    # S5: opened late on day 1, the queue timed out after 30 min, past midnight.
    s["s5"] = timed_session(
        opened=at(4, "23:30:00"), queued=at(4, "23:31:00"), closed=at(5, "00:01:00"), reason=Reason.QUEUE_TIMEOUT
    )
    event_at(s["s5"], SessionEvent.Kind.QUEUED, at(4, "23:31:00"))
    # Day 2.
    # S6: ended the conversation after 30 s in the queue (abandoned, though the reason is "exit").
    s["s6"] = timed_session(
        opened=at(5, "08:00:00"), queued=at(5, "08:00:30"), closed=at(5, "08:01:00"), reason=Reason.CUSTOMER_EXIT
    )
    event_at(s["s6"], SessionEvent.Kind.QUEUED, at(5, "08:00:30"))
    # S7: Bob at once, never replies; a supervisor ends it 10 min later; prompt sent, no rating.
    s["s7"] = timed_session(
        opened=at(5, "09:00:00"),
        queued=at(5, "09:00:10"),
        closed=at(5, "09:10:10"),
        reason=Reason.SUPERVISOR_END,
        rated_seat=bob,
    )
    assignment_at(s["s7"], bob, at(5, "09:00:10"))
    # S8: queued 5 min, Alice answers after 2 min; still in progress.
    s["s8"] = timed_session(opened=at(5, "14:00:00"), queued=at(5, "14:00:00"))
    assignment_at(s["s8"], alice, at(5, "14:05:00"), waited=True)
    reply_at(s["s8"], alice, at(5, "14:07:00"))
    # S9: a supervisor ended it in the queue: asked for a human, not abandoned.
    s["s9"] = timed_session(
        opened=at(5, "15:00:00"), queued=at(5, "15:00:00"), closed=at(5, "15:02:00"), reason=Reason.SUPERVISOR_END
    )
    event_at(s["s9"], SessionEvent.Kind.QUEUED, at(5, "15:00:00"))
    # S10: still waiting.
    s["s10"] = timed_session(opened=at(5, "16:00:00"), queued=at(5, "16:00:00"))
    event_at(s["s10"], SessionEvent.Kind.QUEUED, at(5, "16:00:00"))
    return s


@pytest.mark.usefixtures("dataset")
def test_sessions_per_day_count_by_the_local_day_of_opening() -> None:
    assert reports.sessions_per_day(PERIOD) == [
        {"day": date(2024, 3, 4), "opened": 5, "bot_only": 1, "to_human": 4, "served": 2, "abandoned": 2},
        {"day": date(2024, 3, 5), "opened": 5, "bot_only": 0, "to_human": 5, "served": 2, "abandoned": 1},
    ]


@pytest.mark.usefixtures("dataset")
def test_sessions_per_hour_add_up_the_days() -> None:
    hours = {row["hour"]: (row["opened"], row["to_human"]) for row in reports.sessions_per_hour(PERIOD)}
    assert len(hours) == 24
    assert {hour: counts for hour, counts in hours.items() if counts != (0, 0)} == {
        8: (1, 1),
        9: (3, 2),
        10: (2, 2),
        14: (1, 1),
        15: (1, 1),
        16: (1, 1),
        23: (1, 1),
    }


@pytest.mark.usefixtures("dataset")
def test_queue_waits_run_from_the_request_to_the_first_assignment() -> None:
    assert reports.queue_summary(PERIOD) == {
        "requests": 9,
        "served": 4,
        "served_at_once": 2,
        "abandoned": 3,
        "waiting_now": 1,
        "avg_wait": 105.0,  # (0 + 120 + 0 + 300) / 4
        "max_wait": 300.0,
        "avg_abandon_wait": 650.0,  # (120 + 1800 + 30) / 3
    }


@pytest.mark.usefixtures("dataset")
def test_queue_wait_buckets() -> None:
    buckets = [(b["lower"], b["upper"], b["served"], b["abandoned"]) for b in reports.queue_wait_buckets(PERIOD)]
    assert buckets == [
        (0, 30, 2, 0),
        (30, 60, 0, 1),
        (60, 180, 1, 1),
        (180, 300, 0, 0),
        (300, 600, 1, 0),
        (600, None, 0, 1),
    ]


def test_first_response_and_handling_credit_each_seat_for_its_own_segment(
    dataset: dict[str, ServiceSession], servicer_seat: Seat, other_servicer_seat: Seat
) -> None:
    rows = {row["seat"]: row for row in reports.seat_figures(PERIOD)}
    assert rows["Alice"] == {
        "seat_id": servicer_seat.pk,
        "seat": "Alice",
        "segments": 3,  # S2, S3 after the transfer, S8
        "answered": 3,
        "fast_answered": 2,  # 30 s and 20 s
        "avg_first_response": 56.7,  # (30 + 20 + 120) / 3
        "max_first_response": 120.0,
        "completed": 2,  # S8 is still open
        "avg_handling": 570.0,  # (540 + 600) / 2
        "transferred_away": 0,
    }
    assert rows["Bob"] == {
        "seat_id": other_servicer_seat.pk,
        "seat": "Bob",
        "segments": 2,  # S3 before the transfer, S7
        "answered": 1,
        "fast_answered": 0,
        "avg_first_response": 90.0,
        "max_first_response": 90.0,
        "completed": 2,
        "avg_handling": 510.0,  # (420 + 600) / 2
        "transferred_away": 1,
    }


def test_ratings_go_to_the_rated_seat(
    dataset: dict[str, ServiceSession], servicer_seat: Seat, other_servicer_seat: Seat
) -> None:
    assert reports.ratings_per_seat(PERIOD) == [
        {
            "seat_id": servicer_seat.pk,
            "seat": "Alice",
            "offered": 2,
            "rated": 2,
            "average": 4.0,
            "scores": [0, 0, 1, 0, 1],
        },
        {
            "seat_id": other_servicer_seat.pk,
            "seat": "Bob",
            "offered": 1,
            "rated": 0,
            "average": None,
            "scores": [0] * 5,
        },
    ]


@pytest.mark.usefixtures("dataset")
def test_abandoned_sessions_by_reason() -> None:
    assert [(r["reason"], r["count"], r["avg_wait"]) for r in reports.abandoned_by_reason(PERIOD)] == [
        ("queue_cancelled", 1, 120.0),
        ("queue_timeout", 1, 1800.0),
        ("customer_exit", 1, 30.0),
    ]


def test_a_transfer_back_and_forth_gives_each_stint_its_own_segment(
    servicer_seat: Seat, other_servicer_seat: Seat
) -> None:
    alice, bob = servicer_seat, other_servicer_seat
    session = timed_session(
        opened=at(4, "12:00:00"), queued=at(4, "12:00:00"), closed=at(4, "12:30:00"), reason=Reason.SERVICER_END
    )
    assignment_at(session, alice, at(4, "12:00:00"))
    transfer_at(session, alice, bob, at(4, "12:10:00"))
    transfer_at(session, bob, alice, at(4, "12:20:00"))
    reply_at(session, alice, at(4, "12:00:05"))
    reply_at(session, bob, at(4, "12:10:40"))
    reply_at(session, alice, at(4, "12:20:10"))
    rows = reports.seat_segments(ServiceSession.objects.filter(pk=session.pk)).order_by("at")
    segments = [(row.seat_id, _seconds(row, "first_response"), _seconds(row, "handling")) for row in rows]
    assert segments == [(alice.pk, 5.0, 600.0), (bob.pk, 40.0, 600.0), (alice.pk, 10.0, 600.0)]


def test_a_repeated_event_for_the_same_seat_does_not_split_its_segment(servicer_seat: Seat) -> None:
    session = timed_session(
        opened=at(4, "12:00:00"), queued=at(4, "12:00:00"), closed=at(4, "12:30:00"), reason=Reason.SERVICER_END
    )
    assignment_at(session, servicer_seat, at(4, "12:00:00"))
    event_at(session, SessionEvent.Kind.TRANSFERRED, at(4, "12:10:00"), seat=servicer_seat)
    reply_at(session, servicer_seat, at(4, "12:15:00"))
    rows = list(reports.seat_segments(ServiceSession.objects.filter(pk=session.pk)))
    assert [(_seconds(row, "first_response"), _seconds(row, "handling")) for row in rows] == [(900.0, 1800.0)]


def test_bot_time_and_queue_time_are_never_counted_as_handling(servicer_seat: Seat) -> None:
    # 20 min with the bot, 10 min in the queue, 5 min with Alice.
    session = timed_session(
        opened=at(4, "12:00:00"), queued=at(4, "12:20:00"), closed=at(4, "12:35:00"), reason=Reason.SERVICER_END
    )
    assignment_at(session, servicer_seat, at(4, "12:30:00"), waited=True)
    reply_at(session, servicer_seat, at(4, "12:31:00"))
    (row,) = reports.seat_figures(PERIOD)
    assert (row["avg_first_response"], row["avg_handling"]) == (60.0, 300.0)


def test_the_report_is_empty_for_a_period_without_sessions() -> None:
    report = reports.report_build(Period(date(2020, 1, 1), date(2020, 1, 2)))
    assert [row["opened"] for row in report.days] == [0, 0]
    assert report.seats == []
    assert report.ratings == []
    assert report.queue["requests"] == 0
    assert report.queue["avg_wait"] is None


def test_a_period_is_whole_local_days_and_bounded() -> None:
    assert PERIOD.start == datetime(2024, 3, 4, tzinfo=SHANGHAI)
    assert PERIOD.end == datetime(2024, 3, 6, tzinfo=SHANGHAI)
    with pytest.raises(ValueError, match="ends before"):
        Period(date(2024, 3, 5), date(2024, 3, 4))
    with pytest.raises(ValueError, match="at most"):
        Period(date(2023, 1, 1), date(2024, 3, 4))
