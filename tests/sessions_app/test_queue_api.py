"""The console's queue over the REST API: the list, take-next, take a chosen customer."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from seats.models import Seat
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
