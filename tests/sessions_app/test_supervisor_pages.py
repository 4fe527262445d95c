"""The live view and the reports: who may open them, and what they show."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from ratings.models import Rating
from seats.models import Seat, SkillGroup
from sessions_app.models import ServiceSession
from sessions_app.reports.figures import seat_figures
from sessions_app.reports.period import Period
from tests.factories import assignment_at, customer_make, reply_at, timed_session

pytestmark = pytest.mark.django_db

PAGES = ["/admin/live/", "/admin/live/panels/", "/admin/reports/", "/admin/reports/seats.csv"]


def _logged_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize("path", PAGES)
def test_a_supervisor_opens_the_supervision_pages(supervisor: User, path: str) -> None:
    assert _logged_in(supervisor).get(path).status_code == 200


@pytest.mark.parametrize("path", PAGES)
def test_a_servicer_is_sent_to_the_admin_login(servicer_seat: Seat, path: str) -> None:
    response = _logged_in(servicer_seat.user).get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


@pytest.mark.parametrize("path", PAGES)
def test_an_anonymous_visitor_is_sent_to_the_admin_login(path: str) -> None:
    response = Client().get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


@pytest.mark.parametrize("path", PAGES)
def test_staff_without_the_supervisors_rights_are_refused(path: str) -> None:
    staff = User.objects.create_user("clerk", password="clerk-password", is_staff=True)
    assert _logged_in(staff).get(path).status_code == 403


@pytest.fixture
def busy_now(servicer_seat: Seat, other_servicer_seat: Seat) -> dict[str, ServiceSession]:
    """Alice online with one customer; Bob away; one customer waiting for 4 minutes."""
    now = timezone.now()
    Seat.objects.filter(pk=servicer_seat.pk).update(status=Seat.Status.ONLINE, active_sessions=1)
    Seat.objects.filter(pk=other_servicer_seat.pk).update(status=Seat.Status.AWAY)
    servicer_seat.skill_groups.add(SkillGroup.objects.create(name="售后服务"))
    serving = timed_session(
        opened=now - timedelta(minutes=10), queued=now - timedelta(minutes=9), customer=customer_make("serving")
    )
    assignment_at(serving, servicer_seat, now - timedelta(minutes=9))
    reply_at(serving, servicer_seat, now - timedelta(minutes=8))
    waiting = timed_session(
        opened=now - timedelta(minutes=5), queued=now - timedelta(minutes=4), customer=customer_make("waiting")
    )
    return {"serving": serving, "waiting": waiting}


def test_the_live_view_shows_seats_the_queue_and_sessions_in_progress(
    supervisor: User, busy_now: dict[str, ServiceSession]
) -> None:
    page = _logged_in(supervisor).get("/admin/live/", headers={"accept-language": "en"}).content.decode()
    assert 'data-ws-path="/ws/supervisor/"' in page
    assert "cs-status-online" in page
    assert "cs-status-away" in page
    assert "售后服务" in page
    assert "1/3" in page
    waiting, serving = busy_now["waiting"], busy_now["serving"]
    assert f'<tr data-session="{waiting.pk}">' in page
    assert f'<tr data-session="{serving.pk}">' in page
    assert "4:0" in page, "the customer has waited about four minutes"
    assert 'data-count="queued">1<' in page
    assert 'data-count="in_progress">1<' in page
    assert 'data-count="opened">2<' in page


def test_the_live_panels_alone_are_what_the_script_swaps_in(supervisor: User) -> None:
    response = _logged_in(supervisor).get("/admin/live/panels/")
    body = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in body
    assert "cs-live-panels" in body


def test_the_reports_page_has_charts_tables_and_definitions(
    supervisor: User, busy_now: dict[str, ServiceSession]
) -> None:
    page = _logged_in(supervisor).get("/admin/reports/", headers={"accept-language": "en"}).content.decode()
    assert page.count("<svg") >= 6
    for heading in ("Sessions per day", "Queue waits", "First response and handling time per seat", "Ratings per seat"):
        assert heading in page
    assert "Bot time and queue time are never part of a segment" in page
    assert "/admin/reports/seats.csv?start=" in page
    assert "cdn" not in page.lower()


def test_the_reports_page_speaks_chinese_by_default(supervisor: User) -> None:
    page = _logged_in(supervisor).get("/admin/reports/").content.decode()
    assert "报表" in page
    assert "首次响应" in page


def test_a_period_that_ends_before_it_starts_is_refused_and_the_default_shown(supervisor: User) -> None:
    response = _logged_in(supervisor).get("/admin/reports/", {"start": "2024-03-05", "end": "2024-03-01"})
    assert response.status_code == 200
    assert response.context["form"].errors
    assert response.context["period"] == Period.last_days(7)


def test_the_csv_holds_the_same_table_as_the_page(supervisor: User, busy_now: dict[str, ServiceSession]) -> None:
    today = timezone.localdate().isoformat()
    response = _logged_in(supervisor).get(
        "/admin/reports/seats.csv", {"start": today, "end": today}, headers={"accept-language": "en"}
    )
    assert response["Content-Type"].startswith("text/csv")
    assert f"cs-seats-{today}-{today}.csv" in response["Content-Disposition"]
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0][:4] == ["Seat", "Segments", "Answered", "Average first response (seconds)"]
    (figures,) = seat_figures(Period.last_days(1))
    assert rows[1][:4] == ["Alice", "1", "1", str(figures["avg_first_response"])]
    assert figures["avg_first_response"] == 60.0


def test_an_unknown_csv_table_is_not_found(supervisor: User) -> None:
    assert _logged_in(supervisor).get("/admin/reports/nothing.csv").status_code == 404


def test_ratings_csv_lists_the_star_counts(supervisor: User, servicer_seat: Seat) -> None:
    now = timezone.now()
    session = timed_session(
        opened=now - timedelta(minutes=3), queued=now - timedelta(minutes=3), closed=now, reason="servicer_end"
    )
    ServiceSession.objects.filter(pk=session.pk).update(rated_seat=servicer_seat)
    Rating.objects.create(session=session, seat=servicer_seat, score=4, channel=Rating.Channel.CHAT_DIGIT)
    response = _logged_in(supervisor).get("/admin/reports/ratings.csv", headers={"accept-language": "en"})
    rows = list(csv.reader(io.StringIO(response.content.decode().lstrip("\ufeff"))))
    assert rows[1] == ["Alice", "1", "1", "100.0", "4.0", "0", "0", "0", "1", "0"]
