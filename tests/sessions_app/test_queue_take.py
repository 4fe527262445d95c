"""Servicers taking customers from the queue by hand: the service, and its races (real PostgreSQL)."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import redis
from asgiref.sync import sync_to_async
from django.db import connection, transaction
from django.utils import timezone

from cs_project.errors import ApplicationError
from seats.models import Seat
from seats.services import seat_create_with_user
from sessions_app import events
from sessions_app.flow.assignment import queue_drain, session_request_human
from sessions_app.flow.closing import session_close
from sessions_app.flow.queue import queue_list, queue_take, queue_take_next
from sessions_app.models import Customer, ServiceSession, ServiceSettings
from tests.factories import message_make, session_make
from tests.support.consoles import console_connect, next_frame


def _queued(minutes_ago: int, first_text: str = "") -> ServiceSession:
    session = session_make(state=ServiceSession.State.QUEUED)
    if first_text:
        message_make(session, first_text)
    ServiceSession.objects.filter(pk=session.pk).update(queued_at=timezone.now() - timedelta(minutes=minutes_ago))
    session.refresh_from_db()
    return session


def _online(seat: Seat, capacity: int = 3) -> Seat:
    Seat.objects.filter(pk=seat.pk).update(status=Seat.Status.ONLINE, capacity=capacity)
    seat.refresh_from_db()
    return seat


@pytest.mark.django_db
def test_the_queue_lists_position_waiting_time_and_first_message() -> None:
    newer = _queued(2, "你好")
    older = _queued(10, "我的订单没到")
    message_make(older, "还在吗")

    entries = queue_list()

    assert [e["session_id"] for e in entries] == [older.pk, newer.pk]
    assert [e["position"] for e in entries] == [1, 2]
    assert entries[0]["first_message"] == "我的订单没到"
    assert 590 <= entries[0]["waiting_seconds"] <= 610


@pytest.mark.django_db
def test_take_next_takes_the_oldest_and_fills_one_seat_unit(servicer_seat: Seat) -> None:
    seat = _online(servicer_seat)
    _queued(2)
    older = _queued(10)

    taken = queue_take_next(seat=seat)

    assert taken.pk == older.pk
    older.refresh_from_db()
    seat.refresh_from_db()
    assert (older.state, older.seat_id, seat.active_sessions) == (ServiceSession.State.HUMAN, seat.pk, 1)


@pytest.mark.django_db
def test_a_chosen_customer_can_be_taken_out_of_order(servicer_seat: Seat) -> None:
    seat = _online(servicer_seat)
    _queued(10)
    newer = _queued(2)

    assert queue_take(seat=seat, session_id=newer.pk).pk == newer.pk
    newer.refresh_from_db()
    assert newer.seat_id == seat.pk


@pytest.mark.django_db
def test_it_refuses_a_customer_already_taken(servicer_seat: Seat, other_servicer_seat: Seat) -> None:
    seat, other = _online(servicer_seat), _online(other_servicer_seat)
    session = _queued(5)
    queue_take(seat=other, session_id=session.pk)

    with pytest.raises(ApplicationError) as refused:
        queue_take(seat=seat, session_id=session.pk)

    assert (refused.value.status, refused.value.code) == (409, "not_queued")
    seat.refresh_from_db()
    assert seat.active_sessions == 0


@pytest.mark.django_db
def test_it_refuses_a_full_or_away_seat(servicer_seat: Seat) -> None:
    seat = _online(servicer_seat, capacity=1)
    Seat.objects.filter(pk=seat.pk).update(active_sessions=1)
    session = _queued(5)

    with pytest.raises(ApplicationError) as full:
        queue_take(seat=seat, session_id=session.pk)
    Seat.objects.filter(pk=seat.pk).update(active_sessions=0, status=Seat.Status.AWAY)
    with pytest.raises(ApplicationError) as away:
        queue_take_next(seat=seat)

    assert (full.value.status, full.value.code) == (409, "at_capacity")
    assert (away.value.status, away.value.code) == (409, "not_online")
    session.refresh_from_db()
    assert session.state == ServiceSession.State.QUEUED


@pytest.mark.django_db
def test_take_next_on_an_empty_queue_says_so(servicer_seat: Seat) -> None:
    with pytest.raises(ApplicationError) as refused:
        queue_take_next(seat=_online(servicer_seat))
    assert (refused.value.status, refused.value.code) == (409, "queue_empty")


SEATS = 6
CUSTOMERS = 8


@pytest.mark.django_db(transaction=True)
def test_concurrent_takes_and_drains_never_double_assign_nor_exceed_capacity(redis_client: redis.Redis) -> None:
    """Six servicers take-next, take the same chosen customer and a drain runs, all at once."""
    assert connection.vendor == "postgresql"
    seats = [
        seat_create_with_user(username=f"q{i}", password="pw-12345", display_name=f"Q{i}", capacity=1)
        for i in range(SEATS)
    ]
    Seat.objects.update(status=Seat.Status.ONLINE)
    sessions = [_queued(CUSTOMERS - i) for i in range(CUSTOMERS)]
    contested = sessions[-1]

    barrier = threading.Barrier(SEATS * 2 + 1)
    outcomes: list[str] = []
    errors: list[BaseException] = []

    def attempt(action: str, seat: Seat) -> None:
        try:
            barrier.wait(timeout=30)
            if action == "next":
                queue_take_next(seat=seat)
            else:
                queue_take(seat=seat, session_id=contested.pk)
            outcomes.append("taken")
        except ApplicationError as refused:
            outcomes.append(f"{refused.status} {refused.code}")
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)
        finally:
            connection.close()

    def drain() -> None:
        try:
            barrier.wait(timeout=30)
            queue_drain()
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=(action, seat)) for seat in seats for action in ("next", "one")]
    threads.append(threading.Thread(target=drain))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []

    rows = list(ServiceSession.objects.all())
    per_seat = Counter(s.seat_id for s in rows if s.state == ServiceSession.State.HUMAN)
    assert sum(per_seat.values()) == SEATS, "every seat's one place is used exactly once"
    for seat in Seat.objects.all():
        assert per_seat[seat.pk] == seat.active_sessions <= seat.capacity
    contested.refresh_from_db()
    assert contested.state == ServiceSession.State.HUMAN
    assert outcomes.count("taken") <= SEATS
    refusals = {f"409 {code}" for code in ("not_queued", "at_capacity", "queue_empty", "busy")}
    assert set(outcomes) <= {"taken"} | refusals


def _customer_queues() -> ServiceSession:
    with transaction.atomic():
        session = ServiceSession.objects.create(customer=Customer.objects.create(im_user_id="wx-q"))
        session_request_human(session=session, config=ServiceSettings.load())
    session.refresh_from_db()
    return session


@pytest.mark.django_db(transaction=True)
async def test_every_console_learns_that_the_queue_changed(
    servicer_seat: Seat, other_servicer_seat: Seat, redis_client: redis.Redis
) -> None:
    alice, bob = await console_connect(servicer_seat.user), await console_connect(other_servicer_seat.user)
    # Online but full: the customer is queued rather than told nobody is there.
    await Seat.objects.filter(pk=servicer_seat.pk).aupdate(status=Seat.Status.ONLINE, capacity=0)

    session = await sync_to_async(_customer_queues)()
    assert session.state == ServiceSession.State.QUEUED
    for console in (alice, bob):
        assert (await next_frame(console, "queue.changed")) == {"type": "queue.changed"}

    await Seat.objects.filter(pk=servicer_seat.pk).aupdate(capacity=1)
    await sync_to_async(queue_take)(seat=servicer_seat, session_id=session.pk)
    for console in (alice, bob):
        assert (await next_frame(console, "queue.changed")) == {"type": "queue.changed"}
    await alice.disconnect()
    await bob.disconnect()


@pytest.mark.django_db
def test_a_customer_leaving_the_queue_or_timing_out_is_published(
    monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    sent: list[tuple[str, str]] = []
    monkeypatch.setattr(events, "_send", lambda group, event: sent.append((group, event["type"])))
    cancelled, timed_out = _queued(5), _queued(3)

    with django_capture_on_commit_callbacks(execute=True):
        session_close(session=cancelled, reason=ServiceSession.CloseReason.QUEUE_CANCELLED)
        session_close(session=timed_out, reason=ServiceSession.CloseReason.QUEUE_TIMEOUT)

    assert sent.count((events.CONSOLES_GROUP, "queue.changed")) == 2


@pytest.mark.django_db
def test_the_queue_is_published_when_it_changes_not_for_a_customer_served_at_once(
    servicer_seat: Seat, monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    sent: list[tuple[str, str]] = []
    monkeypatch.setattr(events, "_send", lambda group, event: sent.append((group, event["type"])))
    _online(servicer_seat, capacity=1)

    with django_capture_on_commit_callbacks(execute=True):
        session_request_human(session=session_make(state=ServiceSession.State.BOT), config=ServiceSettings.load())
    assert (events.CONSOLES_GROUP, "queue.changed") not in sent  # a seat had room: nobody queued

    _queued(3), _queued(2)
    Seat.objects.filter(pk=servicer_seat.pk).update(capacity=3)
    with django_capture_on_commit_callbacks(execute=True):
        assert queue_drain() == 2
    assert sent.count((events.CONSOLES_GROUP, "queue.changed")) == 1  # one reload per drain, not per customer
