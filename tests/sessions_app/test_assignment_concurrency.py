"""The assignment rule holds when many customers ask for a human at once (real PostgreSQL)."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
import redis
from django.db import connection, transaction
from django.utils import timezone

from seats.models import Seat, SkillGroup
from seats.services import seat_create_with_user
from sessions_app.flow.assignment import queue_drain, queue_position, session_request_human
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


@pytest.mark.django_db(transaction=True)
def test_two_groups_sharing_seats_never_exceed_capacity_nor_cross_groups(redis_client: redis.Redis) -> None:
    """Seats 0 (A), 1 (B), 2 and 3 (A and B); customers of both groups at once, then concurrent drains."""
    assert connection.vendor == "postgresql"
    group_a, group_b = SkillGroup.objects.create(name="A"), SkillGroup.objects.create(name="B")
    seats = [
        seat_create_with_user(username=f"g{i}", password="pw-12345", display_name=f"G{i}", capacity=CAPACITY)
        for i in range(SEATS)
    ]
    seats[0].skill_groups.add(group_a)
    seats[1].skill_groups.add(group_b)
    for shared in seats[2:]:
        shared.skill_groups.add(group_a, group_b)
    Seat.objects.update(status=Seat.Status.ONLINE)
    members = {group.pk: set(group.seats.values_list("pk", flat=True)) for group in (group_a, group_b)}
    customer_ids = []
    for i in range(CUSTOMERS):
        customer = Customer.objects.create(im_user_id=f"g-c{i}")
        ServiceSession.objects.create(customer=customer, skill_group=group_a if i % 2 else group_b)
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
    assert Counter(s.skill_group_id for s in sessions) == {group_a.pk: CUSTOMERS // 2, group_b.pk: CUSTOMERS // 2}
    per_seat = Counter(s.seat_id for s in sessions if s.state == ServiceSession.State.HUMAN)
    assert sum(per_seat.values()) == SEATS * CAPACITY, "every unit of capacity is used: each seat has demand"
    for seat in Seat.objects.all():
        assert per_seat[seat.pk] == seat.active_sessions <= seat.capacity
    for session in sessions:
        assert session.state in (ServiceSession.State.HUMAN, ServiceSession.State.QUEUED)
        assert session.skill_group_id is not None
        if session.state == ServiceSession.State.HUMAN:
            assert session.seat_id in members[session.skill_group_id], "served by a seat of the customer's group"
        else:
            assert session.seat_id is None
    for group_id in members:  # each group's queue is numbered on its own, 1..n
        queued = ServiceSession.objects.filter(state=ServiceSession.State.QUEUED, skill_group_id=group_id)
        assert sorted(queue_position(session=s) for s in queued) == list(range(1, queued.count() + 1))

    # Seat 1 (group B only) gets room for 4 more: concurrent drains give it B's 4 oldest, no A customer.
    Seat.objects.filter(pk=seats[1].pk).update(capacity=CAPACITY + 4)
    b_waiting = list(
        ServiceSession.objects.filter(state=ServiceSession.State.QUEUED, skill_group=group_b).order_by(
            "queued_at", "pk"
        )
    )
    a_waiting = ServiceSession.objects.filter(state=ServiceSession.State.QUEUED, skill_group=group_a).count()

    def drain() -> None:
        queue_drain()
        connection.close()

    drains = [threading.Thread(target=drain) for _ in range(4)]
    for thread in drains:
        thread.start()
    for thread in drains:
        thread.join(timeout=120)
    seat1 = Seat.objects.get(pk=seats[1].pk)
    assert seat1.active_sessions == CAPACITY + 4
    assert ServiceSession.objects.filter(seat=seat1, state=ServiceSession.State.HUMAN).count() == CAPACITY + 4
    drained = set(
        ServiceSession.objects.filter(pk__in=[s.pk for s in b_waiting], state=ServiceSession.State.HUMAN).values_list(
            "pk", flat=True
        )
    )
    assert drained == {s.pk for s in b_waiting[:4]}, "the group's oldest first"
    assert ServiceSession.objects.filter(state=ServiceSession.State.QUEUED, skill_group=group_a).count() == a_waiting
