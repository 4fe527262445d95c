from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client

from seats.models import Seat
from seats.services import seat_create_with_user

pytestmark = pytest.mark.django_db

URL = "/api/seats/transfer-targets/"


def _client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_it_lists_the_other_online_seats_with_room_least_busy_first(
    servicer_seat: Seat, other_servicer_seat: Seat
) -> None:
    carol = seat_create_with_user(username="carol", password="pw-12345", display_name="Carol", capacity=2)
    full = seat_create_with_user(username="dave", password="pw-12345", display_name="Dave", capacity=1)
    away = seat_create_with_user(username="erin", password="pw-12345", display_name="Erin")
    Seat.objects.exclude(pk=away.pk).update(status=Seat.Status.ONLINE)
    Seat.objects.filter(pk=away.pk).update(status=Seat.Status.AWAY)
    Seat.objects.filter(pk__in=[carol.pk, full.pk]).update(active_sessions=1)
    body = _client_for(servicer_seat.user).get(URL).json()
    assert [(row["display_name"], row["active_sessions"], row["capacity"]) for row in body] == [
        ("Bob", 0, 3),
        ("Carol", 1, 2),
    ]


def test_users_without_a_seat_and_anonymous_users_are_refused(supervisor: User) -> None:
    assert _client_for(supervisor).get(URL).status_code == 403
    assert Client().get(URL).status_code == 403
