from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client

from seats.models import Seat
from sessions_app.models import ServiceSession
from tests.factories import customer_make, message_make, session_make

pytestmark = pytest.mark.django_db


def _url(customer_id: int) -> str:
    return f"/api/customers/{customer_id}/history/"


def _client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_owning_servicer_sees_the_customers_earlier_sessions(servicer_seat: Seat) -> None:
    customer = customer_make()
    old = session_make(customer=customer, seat=servicer_seat, state=ServiceSession.State.CLOSED)
    message_make(old, "上次的问题")
    session_make(customer=customer, seat=servicer_seat)
    response = _client_for(servicer_seat.user).get(_url(customer.pk))
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    assert body["results"][1]["messages"][0]["payload"]["searchableContent"] == "上次的问题"


def test_another_servicer_is_refused(servicer_seat: Seat, other_servicer_seat: Seat) -> None:
    customer = customer_make()
    session_make(customer=customer, seat=servicer_seat)
    response = _client_for(other_servicer_seat.user).get(_url(customer.pk))
    assert response.status_code == 404
    assert "detail" in response.json()


def test_a_servicer_whose_session_ended_loses_access(servicer_seat: Seat) -> None:
    customer = customer_make()
    session_make(customer=customer, seat=servicer_seat, state=ServiceSession.State.CLOSED)
    assert _client_for(servicer_seat.user).get(_url(customer.pk)).status_code == 404


def test_supervisors_see_every_customer(supervisor: User) -> None:
    customer = customer_make()
    session_make(customer=customer, state=ServiceSession.State.BOT)
    assert _client_for(supervisor).get(_url(customer.pk)).status_code == 200


def test_anonymous_users_are_refused() -> None:
    """401 with the API token's challenge: the endpoint also takes a servicer's token (test_token_auth_api)."""
    customer = customer_make()
    response = Client().get(_url(customer.pk))
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Token")


def test_history_is_paginated(supervisor: User) -> None:
    customer = customer_make()
    for _ in range(3):
        session_make(customer=customer, state=ServiceSession.State.CLOSED)
    body = _client_for(supervisor).get(_url(customer.pk), {"page_size": 2}).json()
    assert (body["count"], len(body["results"])) == (3, 2)
    assert body["next"] is not None


@pytest.mark.parametrize("url", ["/api/customers/{customer}/history/", "/api/sessions/{session}/messages/"])
def test_staff_without_the_supervision_permission_sees_no_transcript(supervisor: User, url: str) -> None:
    """One rule for "supervisor" everywhere (seats.services.user_may_supervise): is_staff is not it."""
    customer = customer_make()
    session = session_make(customer=customer, state=ServiceSession.State.BOT)
    message_make(session, "别人的对话")
    path = url.format(customer=customer.pk, session=session.pk)
    assert _client_for(supervisor).get(path).status_code == 200
    staff = User.objects.create_user(username="staff-only", password="staff-only-pw", is_staff=True)
    assert _client_for(staff).get(path).status_code == 404
    supervisor.groups.clear()  # the permission withdrawn
    supervisor = User.objects.get(pk=supervisor.pk)  # permissions are cached on the instance
    assert _client_for(supervisor).get(path).status_code == 404
