"""The console's queue over the REST API: the list, take-next, take a chosen customer."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from seats.models import Seat, SkillGroup
from sessions_app.models import ServiceSession
from tests.factories import message_make, session_make

pytestmark = pytest.mark.django_db

QUEUE_URL = "/api/console/queue/"
TAKE_NEXT_URL = "/api/console/queue/take-next/"


def _client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _queued(minutes_ago: int, text: str = "在吗") -> ServiceSession:
    session = session_make(state=ServiceSession.State.QUEUED)
    message_make(session, text)
    ServiceSession.objects.filter(pk=session.pk).update(queued_at=timezone.now() - timedelta(minutes=minutes_ago))
    return session


def _online(seat: Seat) -> None:
    Seat.objects.filter(pk=seat.pk).update(status=Seat.Status.ONLINE, capacity=2)


def test_a_servicer_sees_the_queue_oldest_first(servicer_seat: Seat) -> None:
    newer, older = _queued(1, "你好"), _queued(7, "退款")

    response = _client_for(servicer_seat.user).get(QUEUE_URL)

    assert response.status_code == 200
    rows = response.json()
    assert [(r["session_id"], r["position"], r["first_message"]) for r in rows] == [
        (older.pk, 1, "退款"),
        (newer.pk, 2, "你好"),
    ]
    assert rows[0]["customer_name"] == "顾客"
    assert rows[0]["waiting_seconds"] >= 7 * 60 - 5


def _queued_for(group: SkillGroup | None, minutes_ago: int, text: str) -> ServiceSession:
    session = _queued(minutes_ago, text)
    ServiceSession.objects.filter(pk=session.pk).update(skill_group=group)
    return session


def test_the_queue_marks_the_customers_the_callers_seat_serves_by_the_group_rules(
    servicer_seat: Seat, other_servicer_seat: Seat
) -> None:
    after_sales = SkillGroup.objects.create(name="售后服务")
    billing = SkillGroup.objects.create(name="发票", overflow_minutes=5)
    servicer_seat.skill_groups.add(after_sales)
    other_servicer_seat.skill_groups.add(billing)
    ours = _queued_for(after_sales, 9, "退货")
    overflowed = _queued_for(billing, 8, "开发票")  # billing lets any seat take them after 5 minutes
    theirs = _queued_for(billing, 2, "发票抬头")
    ungrouped = _queued_for(None, 1, "在吗")

    rows = _client_for(servicer_seat.user).get(QUEUE_URL).json()

    assert [(r["session_id"], r["skill_group_id"], r["skill_group"], r["may_take"]) for r in rows] == [
        (ours.pk, after_sales.pk, "售后服务", True),
        (overflowed.pk, billing.pk, "发票", True),
        (theirs.pk, billing.pk, "发票", False),
        (ungrouped.pk, None, "", True),
    ]
    # The fields the console read before groups are all still there (the change only adds may_take).
    assert set(rows[0]) == {
        "session_id",
        "position",
        "customer_id",
        "customer_name",
        "customer_avatar",
        "queued_at",
        "waiting_seconds",
        "first_message",
        "skill_group_id",
        "skill_group",
        "may_take",
        "may_take_in_seconds",
    }
    # Not yet hers: 发票 overflows 5 minutes after queueing, 3 minutes from now; the rest have no wait.
    assert 170 <= rows[2]["may_take_in_seconds"] <= 180
    assert [rows[0]["may_take_in_seconds"], rows[1]["may_take_in_seconds"], rows[3]["may_take_in_seconds"]] == [
        None
    ] * 3
    # The other seat, of billing only: the after-sales customer is not theirs, the rest are.
    other_rows = _client_for(other_servicer_seat.user).get(QUEUE_URL).json()
    assert [r["may_take"] for r in other_rows] == [False, True, True, True]
    assert other_rows[0]["may_take_in_seconds"] is None  # 售后服务 never overflows
    # Take-next agrees with the marks: the oldest customer marked for the seat.
    _online(other_servicer_seat)
    taken = _client_for(other_servicer_seat.user).post(TAKE_NEXT_URL).json()
    assert taken["session_id"] == overflowed.pk


def test_the_console_page_names_the_seats_groups_for_the_queue_filter(servicer_seat: Seat) -> None:
    SkillGroup.objects.create(name="售前咨询", menu_order=1)
    after_sales = SkillGroup.objects.create(name="售后服务", menu_order=2)
    billing = SkillGroup.objects.create(name="发票", menu_order=3)
    servicer_seat.skill_groups.add(billing, after_sales)

    response = _client_for(servicer_seat.user).get("/console/")

    assert response.status_code == 200
    assert response.context["console_config"]["seatGroups"] == [
        {"id": after_sales.pk, "name": "售后服务"},
        {"id": billing.pk, "name": "发票"},
    ]


def test_take_next_assigns_the_oldest_to_the_caller(servicer_seat: Seat) -> None:
    _online(servicer_seat)
    _queued(1)
    older = _queued(7)

    response = _client_for(servicer_seat.user).post(TAKE_NEXT_URL)

    assert response.status_code == 200
    assert response.json()["session_id"] == older.pk
    assert ServiceSession.objects.get(pk=older.pk).seat_id == servicer_seat.pk


def test_taking_a_customer_someone_else_took_is_a_409_with_a_reason(
    servicer_seat: Seat, other_servicer_seat: Seat
) -> None:
    _online(servicer_seat)
    _online(other_servicer_seat)
    session = _queued(3)
    url = f"/api/console/queue/{session.pk}/take/"
    assert _client_for(other_servicer_seat.user).post(url).status_code == 200

    response = _client_for(servicer_seat.user).post(url)

    assert response.status_code == 409
    assert response.json()["code"] == "not_queued"
    assert response.json()["error"]


def test_an_offline_servicer_cannot_take(servicer_seat: Seat) -> None:
    session = _queued(3)

    response = _client_for(servicer_seat.user).post(f"/api/console/queue/{session.pk}/take/")

    assert (response.status_code, response.json()["code"]) == (409, "not_online")


def test_unknown_customer_is_404(servicer_seat: Seat) -> None:
    _online(servicer_seat)
    response = _client_for(servicer_seat.user).post("/api/console/queue/999999/take/")
    assert (response.status_code, response.json()["code"]) == (404, "not_found")


def test_users_without_a_seat_are_refused(supervisor: User) -> None:
    client = _client_for(supervisor)
    assert client.get(QUEUE_URL).status_code == 403
    assert client.post(TAKE_NEXT_URL).status_code == 403
    assert Client().get(QUEUE_URL).status_code in (401, 403)
