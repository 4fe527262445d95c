"""The reports' date presets, their per-seat and per-group filters, and CSV headers with units."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from seats.models import Seat, SkillGroup
from sessions_app.models import ServiceSession
from sessions_app.reports import figures
from sessions_app.reports.period import Period
from tests.factories import assignment_at, timed_session

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("preset", "first", "last"),
    [
        ("today", date(2024, 3, 15), date(2024, 3, 15)),
        ("7d", date(2024, 3, 9), date(2024, 3, 15)),
        ("30d", date(2024, 2, 15), date(2024, 3, 15)),
        ("month", date(2024, 3, 1), date(2024, 3, 15)),
    ],
)
def test_each_preset_covers_its_days(preset: str, first: date, last: date) -> None:
    period = Period.preset(preset, today=date(2024, 3, 15))  # type: ignore[arg-type]
    assert (period.first_day, period.last_day) == (first, last)


@pytest.fixture
def served(servicer_seat: Seat, other_servicer_seat: Seat) -> dict[str, ServiceSession]:
    """One session served by Alice, one by Bob, today."""
    now = timezone.now()
    sessions = {}
    for name, seat in (("alice", servicer_seat), ("bob", other_servicer_seat)):
        session = timed_session(opened=now - timedelta(minutes=5), queued=now - timedelta(minutes=5))
        assignment_at(session, seat, now - timedelta(minutes=4))
        sessions[name] = session
    return sessions


@pytest.mark.usefixtures("served")
def test_a_seat_filter_keeps_only_the_sessions_that_seat_served(servicer_seat: Seat) -> None:
    today = timezone.localdate()
    assert figures.sessions_in(Period(today, today)).count() == 2
    only_alice = Period(today, today, seat_id=servicer_seat.pk)
    assert figures.sessions_in(only_alice).count() == 1
    assert [row["seat"] for row in figures.seat_figures(only_alice)] == ["Alice"]


def test_a_group_filter_keeps_only_the_sessions_whose_customer_chose_the_group(
    served: dict[str, ServiceSession], servicer_seat: Seat, other_servicer_seat: Seat
) -> None:
    """The session's group, not the seat's: Alice is not in 售后 but served its customer (an
    overflow); Bob is in 售后 but served a customer of no group."""
    group = SkillGroup.objects.create(name="售后")
    other_servicer_seat.skill_groups.add(group)
    ServiceSession.objects.filter(pk=served["alice"].pk).update(skill_group=group)
    today = timezone.localdate()
    period = Period(today, today, group_id=group.pk)
    assert list(figures.sessions_in(period)) == [served["alice"]]
    assert [row["seat"] for row in figures.seat_figures(period)] == [servicer_seat.display_name]
    assert figures.sessions_in(Period(today, today, seat_id=other_servicer_seat.pk, group_id=group.pk)).count() == 0


def _csv(client: Client, table: str, **query: str) -> list[list[str]]:
    response = client.get(f"/admin/reports/{table}.csv", query, headers={"accept-language": "zh-hans"})
    assert response.status_code == 200
    return list(csv.reader(io.StringIO(response.content.decode().lstrip("\ufeff"))))


@pytest.mark.usefixtures("served")
def test_the_page_and_the_csv_follow_the_preset_and_the_seat(supervisor: User, servicer_seat: Seat) -> None:
    client = Client()
    client.force_login(supervisor)
    page = client.get("/admin/reports/", {"preset": "today", "seat": str(servicer_seat.pk)}).content.decode()
    today = timezone.localdate().isoformat()
    assert f"start={today}&amp;end={today}&amp;seat={servicer_seat.pk}" in page, "the CSV links keep the filter"
    rows = _csv(client, "seats", preset="today", seat=str(servicer_seat.pk))
    assert [row[0] for row in rows[1:]] == ["Alice"]


def test_csv_headers_carry_their_units(supervisor: User) -> None:
    client = Client()
    client.force_login(supervisor)
    header = _csv(client, "queue")[0] + _csv(client, "seats")[0]
    assert any(label.endswith("（秒）") for label in header)
    assert any(label.endswith("（%）") for label in header)


def test_a_bad_filter_falls_back_to_the_default_report(supervisor: User) -> None:
    client = Client()
    client.force_login(supervisor)
    assert client.get("/admin/reports/", {"seat": "nope", "preset": "year"}).status_code == 200
