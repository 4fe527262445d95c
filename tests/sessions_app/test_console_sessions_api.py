from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client

from seats.models import Seat
from sessions_app.models import ServiceSession, SessionEvent
from tests.factories import message_make, session_make

pytestmark = pytest.mark.django_db

URL = "/api/console/sessions/"


def _client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_servicer_gets_their_sessions_in_progress(servicer_seat: Seat, other_servicer_seat: Seat) -> None:
    mine = session_make(seat=servicer_seat)
    message_make(mine, "你好")
    message_make(mine, "在吗", author="servicer")
    session_make(seat=servicer_seat, state=ServiceSession.State.CLOSED)
    session_make(seat=other_servicer_seat)
    SessionEvent.objects.create(
        session=mine,
        kind=SessionEvent.Kind.TRANSFERRED,
        seat=servicer_seat,
        detail={"from_seat": other_servicer_seat.pk, "to_seat": servicer_seat.pk, "note": "老客户"},
    )
    response = _client_for(servicer_seat.user).get(URL)
    assert response.status_code == 200
    [row] = response.json()
    assert row["id"] == mine.pk
    assert row["customer_name"] == "顾客"
    assert row["last_seq"] == 2
    assert row["last_customer_message_at"] is not None
    assert row["last_servicer_message_at"] >= row["last_customer_message_at"]
    assert (row["transfer_note"], row["transferred_from"]) == ("老客户", "Bob")


def test_another_servicer_does_not_see_them(servicer_seat: Seat, other_servicer_seat: Seat) -> None:
    session_make(seat=servicer_seat)
    assert _client_for(other_servicer_seat.user).get(URL).json() == []


def test_a_user_without_a_seat_is_refused(supervisor: User) -> None:
    response = _client_for(supervisor).get(URL)
    assert response.status_code == 403
    assert response.json()["code"] == "no_seat"


def test_anonymous_users_are_refused() -> None:
    assert Client().get(URL).status_code == 401  # the API token's challenge (test_token_auth_api)
