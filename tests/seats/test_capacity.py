"""A supervisor changes a seat's capacity: the service saves it and, on commit, pushes a
``seat.status`` event carrying the new capacity, so the servicer's load pill never shows "3/1"."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from cs_project.errors import ApplicationError
from seats.models import Seat
from seats.services import seat_capacity_set
from sessions_app import events

pytestmark = pytest.mark.django_db

Sent = list[tuple[str, dict[str, Any]]]


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> Sent:
    published: Sent = []
    monkeypatch.setattr(events, "_send", lambda group, event: published.append((group, dict(event))))
    return published


def test_it_saves_the_capacity_and_announces_it_on_commit(
    servicer_seat: Seat, sent: Sent, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    Seat.objects.filter(pk=servicer_seat.pk).update(active_sessions=3)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        seat_capacity_set(seat=servicer_seat, capacity=1)
    assert sent == [], "nothing is published before the commit"
    for callback in callbacks:
        callback()
    servicer_seat.refresh_from_db()
    assert servicer_seat.capacity == 1
    to_seat = [event for group, event in sent if group == events.seat_group(servicer_seat.pk)]
    assert to_seat == [
        {
            "type": "seat.status",
            "seat_id": servicer_seat.pk,
            "status": servicer_seat.status,
            "active_sessions": 3,
            "capacity": 1,
            "automatic": False,
        }
    ]
    assert any(group == events.SUPERVISORS_GROUP for group, _event in sent)


def test_it_refuses_a_negative_capacity(servicer_seat: Seat) -> None:
    with pytest.raises(ApplicationError):
        seat_capacity_set(seat=servicer_seat, capacity=-1)
    servicer_seat.refresh_from_db()
    assert servicer_seat.capacity == 3


def test_the_admin_form_goes_through_the_service(
    supervisor: User, servicer_seat: Seat, sent: Sent, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    client = Client()
    client.force_login(supervisor)
    data = {
        "new_password": "",
        "display_name": servicer_seat.display_name,
        "avatar_url": "",
        "im_user_id": servicer_seat.im_user_id,
        "capacity": "5",
        "sessions-TOTAL_FORMS": "0",
        "sessions-INITIAL_FORMS": "0",
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/admin/seats/seat/{servicer_seat.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    capacities = [event.get("capacity") for group, event in sent if group == events.seat_group(servicer_seat.pk)]
    assert capacities == [5]


def test_the_admin_form_announces_nothing_when_capacity_is_unchanged(
    supervisor: User, servicer_seat: Seat, sent: Sent, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    client = Client()
    client.force_login(supervisor)
    data = {
        "new_password": "",
        "display_name": "Alice B.",
        "avatar_url": "",
        "im_user_id": servicer_seat.im_user_id,
        "capacity": str(servicer_seat.capacity),
        "sessions-TOTAL_FORMS": "0",
        "sessions-INITIAL_FORMS": "0",
    }
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/admin/seats/seat/{servicer_seat.pk}/change/", data)
    assert sent == []
