"""The assignment rule holds when many customers ask for a human at once (real PostgreSQL)."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
import redis
from django.db import connection, transaction
from django.utils import timezone

from seats.models import Seat
from seats.services import seat_create_with_user
from sessions_app.flow.assignment import queue_drain, session_request_human
from sessions_app.models import Customer, ServiceSession, ServiceSettings

CUSTOMERS = 60
SEATS = 4
CAPACITY = 3


def _ask_for_human(customer_id: int, barrier: threading.Barrier, errors: list[BaseException]) -> None:
    try:
        barrier.wait(timeout=30)
        with transaction.atomic():
            session = (
                ServiceSession.objects.select_for_update()
                .select_related("customer")
                .get(customer_id=customer_id, state=ServiceSession.State.BOT)
            )
            session_request_human(session=session, config=ServiceSettings.load())
    except BaseException as exc:  # noqa: BLE001 - reported by the test
        errors.append(exc)
    finally:
        connection.close()


@pytest.mark.django_db(transaction=True)
def test_simultaneous_transfers_never_exceed_capacity_or_double_assign(redis_client: redis.Redis) -> None:
    assert connection.vendor == "postgresql"
    seats = [
        seat_create_with_user(username=f"s{i}", password="pw-12345", display_name=f"S{i}", capacity=CAPACITY)
        for i in range(SEATS)
    ]
    Seat.objects.update(status=Seat.Status.ONLINE)
    customer_ids = []
    for i in range(CUSTOMERS):
        customer = Customer.objects.create(im_user_id=f"c{i}")
        ServiceSession.objects.create(customer=customer)
        customer_ids.append(customer.pk)

    barrier = threading.Barrier(CUSTOMERS)
    errors: list[BaseException] = []
    threads = [threading.Thread(target=_ask_for_human, args=(cid, barrier, errors)) for cid in customer_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []

    sessions = list(ServiceSession.objects.all())
    per_seat = Counter(s.seat_id for s in sessions if s.state == ServiceSession.State.HUMAN)
    assert sum(per_seat.values()) == SEATS * CAPACITY, "every unit of capacity is used"
    assert Counter(s.state for s in sessions)[ServiceSession.State.QUEUED] == CUSTOMERS - SEATS * CAPACITY
    for seat in Seat.objects.all():
        assert per_seat[seat.pk] == seat.active_sessions <= seat.capacity

    # Concurrent drains after capacity frees up: still nobody over capacity, oldest first.
    Seat.objects.filter(pk=seats[0].pk).update(capacity=CAPACITY + 5)
    drain_started = timezone.now()

    def drain() -> None:
        queue_drain()
        connection.close()

    drains = [threading.Thread(target=drain) for _ in range(4)]
    for thread in drains:
        thread.start()
    for thread in drains:
        thread.join(timeout=120)
    seat0 = Seat.objects.get(pk=seats[0].pk)
    assert seat0.active_sessions == CAPACITY + 5
    assert ServiceSession.objects.filter(seat=seat0, state=ServiceSession.State.HUMAN).count() == CAPACITY + 5
    still_queued = ServiceSession.objects.filter(state=ServiceSession.State.QUEUED).order_by("queued_at")
    drained = list(ServiceSession.objects.filter(seat=seat0, assigned_at__gte=drain_started))
    assert len(drained) == 5
    assert still_queued.count() == CUSTOMERS - SEATS * CAPACITY - 5
    oldest_waiting = still_queued.first()
    assert oldest_waiting is not None
    assert oldest_waiting.queued_at is not None
    assert all(s.queued_at is not None and s.queued_at <= oldest_waiting.queued_at for s in drained), "oldest first"
