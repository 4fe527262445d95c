from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client

from seats.models import Seat
from tests.factories import message_make, session_make

pytestmark = pytest.mark.django_db


def _url(session_id: int) -> str:
    return f"/api/sessions/{session_id}/messages/"


def _client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_serving_servicer_gets_the_messages_after_a_seq(servicer_seat: Seat) -> None:
    session = session_make(seat=servicer_seat)
    for text in ("一", "二", "三", "四"):
        message_make(session, text)
    body = _client_for(servicer_seat.user).get(_url(session.pk), {"after_seq": 2}).json()
    assert (body["session_id"], body["last_seq"]) == (session.pk, 4)
    assert [(m["seq"], m["payload"]["searchableContent"]) for m in body["messages"]] == [(3, "三"), (4, "四")]


def test_a_limit_pages_through_them_in_order(servicer_seat: Seat) -> None:
    session = session_make(seat=servicer_seat)
    for text in ("一", "二", "三"):
        message_make(session, text)
    client = _client_for(servicer_seat.user)
    first = client.get(_url(session.pk), {"limit": 2}).json()["messages"]
    rest = client.get(_url(session.pk), {"after_seq": first[-1]["seq"], "limit": 2}).json()["messages"]
    assert [m["seq"] for m in first + rest] == [1, 2, 3]


def test_bad_parameters_are_refused(servicer_seat: Seat) -> None:
    session = session_make(seat=servicer_seat)
    response = _client_for(servicer_seat.user).get(_url(session.pk), {"after_seq": -1, "limit": 9999})
    assert response.status_code == 400
    assert set(response.json()) == {"after_seq", "limit"}


def test_another_servicer_is_refused(servicer_seat: Seat, other_servicer_seat: Seat) -> None:
    session = session_make(seat=servicer_seat)
    message_make(session, "私密")
    assert _client_for(other_servicer_seat.user).get(_url(session.pk)).status_code == 404


def test_supervisors_may_read_any_session(supervisor: User, servicer_seat: Seat) -> None:
    session = session_make(seat=servicer_seat)
    assert _client_for(supervisor).get(_url(session.pk)).status_code == 200


def test_anonymous_users_are_refused(servicer_seat: Seat) -> None:
    session = session_make(seat=servicer_seat)
    assert Client().get(_url(session.pk)).status_code == 401  # the API token's challenge (test_token_auth_api)
