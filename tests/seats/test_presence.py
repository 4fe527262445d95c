"""Presence bookkeeping in Redis (seats.presence); the websocket side is in test_console_consumer."""

from __future__ import annotations

import time

import pytest
import redis
from pytest_django.fixtures import Settings as SettingsWrapper

from seats import presence
from seats.models import Seat

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _short_grace(settings: SettingsWrapper, redis_client: redis.Redis) -> None:
    settings.CS_PRESENCE_GRACE_SECONDS = 1


def _online(seat: Seat) -> None:
    Seat.objects.filter(pk=seat.pk).update(status=Seat.Status.ONLINE)


def _state(seat: Seat) -> tuple[str, bool]:
    seat.refresh_from_db()
    return seat.status, seat.away_automatic


def test_a_seat_that_never_opened_the_console_is_never_touched(servicer_seat: Seat) -> None:
    _online(servicer_seat)  # e.g. "开始服务" from the IM app
    assert presence.presence_sweep() == 0
    assert presence.presence_check(seat_id=servicer_seat.pk) is False
    assert _state(servicer_seat) == ("online", False)


def test_the_check_waits_for_the_grace_after_the_last_departure(servicer_seat: Seat) -> None:
    _online(servicer_seat)
    presence.presence_connected(seat_id=servicer_seat.pk, connection="a")
    presence.presence_disconnected(seat_id=servicer_seat.pk, connection="a")
    assert presence.presence_check(seat_id=servicer_seat.pk) is False, "too early"
    time.sleep(1.05)
    assert presence.presence_check(seat_id=servicer_seat.pk) is True
    assert _state(servicer_seat) == ("away", True)


def test_connections_of_a_process_that_died_expire_and_the_sweep_catches_them(
    servicer_seat: Seat, monkeypatch: pytest.MonkeyPatch
) -> None:
    _online(servicer_seat)
    monkeypatch.setattr(presence, "CONNECTION_TTL_SECONDS", 0.5)
    presence.presence_connected(seat_id=servicer_seat.pk, connection="died-with-its-process")
    assert presence.presence_connection_count(seat_id=servicer_seat.pk) == 1
    time.sleep(0.6)
    assert presence.presence_connection_count(seat_id=servicer_seat.pk) == 0
    time.sleep(1.0)
    assert presence.presence_sweep() == 1
    assert _state(servicer_seat) == ("away", True)
    assert presence.presence_sweep() == 0, "no longer tracked"


def test_a_refreshed_connection_stays(servicer_seat: Seat, monkeypatch: pytest.MonkeyPatch) -> None:
    _online(servicer_seat)
    monkeypatch.setattr(presence, "CONNECTION_TTL_SECONDS", 0.5)
    presence.presence_connected(seat_id=servicer_seat.pk, connection="alive")
    for _ in range(3):
        time.sleep(0.3)
        presence.presence_refresh(seat_id=servicer_seat.pk, connection="alive")
    assert presence.presence_connection_count(seat_id=servicer_seat.pk) == 1
    assert presence.presence_sweep() == 0


def test_an_offline_or_manually_away_seat_is_left_as_it_is(servicer_seat: Seat) -> None:
    Seat.objects.filter(pk=servicer_seat.pk).update(status=Seat.Status.AWAY)
    presence.presence_connected(seat_id=servicer_seat.pk, connection="a")
    assert _state(servicer_seat) == ("away", False), "a servicer's own away is not undone"
    presence.presence_disconnected(seat_id=servicer_seat.pk, connection="a")
    time.sleep(1.05)
    assert presence.presence_check(seat_id=servicer_seat.pk) is False
    assert _state(servicer_seat) == ("away", False)
