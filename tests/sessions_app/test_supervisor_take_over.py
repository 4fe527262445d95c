"""A supervisor takes a chat over (sessions_app.flow.supervisor.session_supervisor_take_over): it
becomes theirs, the customer hears their name, the old servicer's console hears why."""

from __future__ import annotations

import threading
import time

import pytest
from asgiref.sync import sync_to_async
from django.contrib.auth.models import User
from django.db import connection, transaction

from cs_project.errors import ApplicationError
from robots.models import OutboundMessage
from seats.models import Seat
from seats.services import seat_create_with_user, supervisor_create
from sessions_app.flow.closing import session_supervisor_end
from sessions_app.flow.supervisor import (
    seat_supervisor_status_set,
    session_supervisor_reassign,
    session_supervisor_take_over,
)
from sessions_app.models import ServiceSession, SessionEvent
from tests.factories import session_make, session_served
from tests.support.consoles import console_connect, next_frame
from tests.support.threads import run_together


def _boss_with_seat(status: Seat.Status = Seat.Status.ONLINE, capacity: int = 3) -> tuple[User, Seat]:
    user = supervisor_create(username="boss", password="boss-password")
    seat = seat_create_with_user(username="boss", password="boss-password", display_name="主管王", capacity=capacity)
    Seat.objects.filter(pk=seat.pk).update(status=status)
    return user, seat


def _load(seat: Seat) -> int:
    return Seat.objects.get(pk=seat.pk).active_sessions


def _told_customer(session: ServiceSession) -> list[str]:
    rows = OutboundMessage.objects.filter(target_user_id=session.customer.im_user_id).order_by("pk")
    return [str(row.payload.get("searchableContent", "")) for row in rows]


def _counts_exact() -> None:
    for seat in Seat.objects.all():
        served = ServiceSession.objects.filter(seat=seat, state=ServiceSession.State.HUMAN).count()
        assert seat.active_sessions == served, (seat.display_name, seat.active_sessions, served)


@pytest.mark.django_db
def test_a_take_over_makes_the_chat_the_supervisors_and_tells_the_customer(servicer_seat: Seat) -> None:
    boss, boss_seat = _boss_with_seat()
    session = session_served(servicer_seat, online=True)

    session_supervisor_take_over(session_id=session.pk, supervisor=boss)

    session.refresh_from_db()
    assert (session.state, session.seat_id) == (ServiceSession.State.HUMAN, boss_seat.pk)
    assert (_load(servicer_seat), _load(boss_seat)) == (0, 1)
    event = session.events.get(kind=SessionEvent.Kind.TRANSFERRED)
    assert event.detail | {"note": ""} == {
        "from_seat": servicer_seat.pk,
        "to_seat": boss_seat.pk,
        "note": "",
        "by_supervisor": True,
        "take_over": True,
    }
    assert any("主管王" in text for text in _told_customer(session))


@pytest.mark.django_db
def test_a_take_over_may_go_over_the_supervisors_capacity_and_keeps_counts_exact(
    servicer_seat: Seat, other_servicer_seat: Seat
) -> None:
    boss, boss_seat = _boss_with_seat(capacity=1)
    session_served(boss_seat, online=True)
    first, second = session_served(servicer_seat, online=True), session_served(other_servicer_seat, online=True)
    session_supervisor_take_over(session_id=first.pk, supervisor=boss)
    session_supervisor_take_over(session_id=second.pk, supervisor=boss)
    assert _load(boss_seat) == 3  # capacity 1: a take-over is deliberate
    _counts_exact()


@pytest.mark.django_db
def test_it_refuses_without_a_seat_offline_for_its_own_chat_and_when_not_served(
    supervisor: User, servicer_seat: Seat
) -> None:
    session = session_served(servicer_seat, online=True)
    with pytest.raises(ApplicationError) as no_seat:
        session_supervisor_take_over(session_id=session.pk, supervisor=supervisor)
    assert (no_seat.value.code, no_seat.value.status) == ("no_seat", 409)
    assert not Seat.objects.filter(user=supervisor).exists()  # nothing made implicitly

    boss, boss_seat = _boss_with_seat(status=Seat.Status.OFFLINE)
    with pytest.raises(ApplicationError) as offline:
        session_supervisor_take_over(session_id=session.pk, supervisor=boss)
    assert (offline.value.code, offline.value.status) == ("seat_offline", 409)

    Seat.objects.filter(pk=boss_seat.pk).update(status=Seat.Status.AWAY)  # away is enough: they chose to
    session_supervisor_take_over(session_id=session.pk, supervisor=boss)
    with pytest.raises(ApplicationError) as again:
        session_supervisor_take_over(session_id=session.pk, supervisor=boss)
    assert (again.value.code, again.value.status) == ("same_seat", 409)

    closed = session_make(seat=servicer_seat, state=ServiceSession.State.CLOSED)
    with pytest.raises(ApplicationError) as ended:
        session_supervisor_take_over(session_id=closed.pk, supervisor=boss)
    assert (ended.value.code, ended.value.status) == ("not_served", 409)
    _counts_exact()


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("redis_client")
async def test_the_old_servicers_console_is_told_who_took_the_chat_over(servicer_seat: Seat) -> None:
    boss, _boss_seat = await sync_to_async(_boss_with_seat)()
    session = await sync_to_async(session_served)(servicer_seat, online=True)
    alice = await console_connect(servicer_seat.user)

    await sync_to_async(session_supervisor_take_over)(session_id=session.pk, supervisor=boss)

    gone = await next_frame(alice, "session.transferred_out")
    assert gone["session_id"] == session.pk
    assert gone["detail"]["take_over"] is True
    assert gone["detail"]["to_seat"] == "主管王"
    await alice.disconnect()


@pytest.mark.django_db(transaction=True)
def test_a_take_over_racing_a_close_never_leaves_a_seat_miscounted(servicer_seat: Seat) -> None:
    boss, _boss_seat = _boss_with_seat()
    for _round in range(5):
        session = session_served(servicer_seat, online=True)
        outcomes = run_together(
            lambda pk=session.pk: session_supervisor_take_over(session_id=pk, supervisor=boss),
            lambda pk=session.pk: session_supervisor_end(session_id=pk, note="结束"),
        )
        assert sorted(outcomes) in (["ok", "ok"], ["not_served", "ok"])
        session.refresh_from_db()
        assert session.state == ServiceSession.State.CLOSED
        _counts_exact()


@pytest.mark.django_db(transaction=True)
def test_a_take_over_racing_a_reassignment_moves_the_chat_once(servicer_seat: Seat, other_servicer_seat: Seat) -> None:
    boss, boss_seat = _boss_with_seat()
    Seat.objects.filter(pk=other_servicer_seat.pk).update(status=Seat.Status.ONLINE, capacity=10)
    for _round in range(5):
        session = session_served(servicer_seat, online=True)
        outcomes = run_together(
            lambda pk=session.pk: session_supervisor_take_over(session_id=pk, supervisor=boss),
            lambda pk=session.pk: session_supervisor_reassign(session_id=pk, to_seat_id=other_servicer_seat.pk),
        )
        # Serialised by the session's lock: each moves the chat from where the other left it.
        assert sorted(outcomes) == ["ok", "ok"], outcomes
        session.refresh_from_db()
        assert session.seat_id in (boss_seat.pk, other_servicer_seat.pk)
        assert session.events.filter(kind=SessionEvent.Kind.TRANSFERRED).count() == 2
        _counts_exact()


@pytest.mark.django_db(transaction=True)
def test_a_take_over_and_a_seat_set_offline_with_requeue_never_deadlock(servicer_seat: Seat) -> None:
    """The take-over holds the chat's row and then wants the seat's; the status change wants the
    seat's row and the chats'. Both lock chats before seats, so the second waits and then finds the
    chat gone from the seat, instead of PostgreSQL killing one of them (a 500 to a supervisor)."""
    boss, boss_seat = _boss_with_seat()
    session = session_served(servicer_seat, online=True)
    holding = threading.Event()
    outcomes: dict[str, str] = {}

    def take_over_slowly() -> None:
        try:
            with transaction.atomic():
                list(ServiceSession.objects.select_for_update(no_key=True).filter(pk=session.pk))
                holding.set()
                time.sleep(1.0)  # the status change starts meanwhile and reaches for the same rows
                session_supervisor_take_over(session_id=session.pk, supervisor=boss)
            outcomes["take_over"] = "ok"
        except Exception as exc:  # noqa: BLE001 - the outcome is what the test checks
            outcomes["take_over"] = repr(exc)
        finally:
            connection.close()

    def set_offline() -> None:
        try:
            assert holding.wait(10)
            time.sleep(0.2)
            outcomes["requeued"] = str(
                seat_supervisor_status_set(seat_id=servicer_seat.pk, status=Seat.Status.OFFLINE, requeue=True)
            )
        except Exception as exc:  # noqa: BLE001
            outcomes["requeued"] = repr(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=take_over_slowly), threading.Thread(target=set_offline)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert outcomes == {"take_over": "ok", "requeued": "0"}, outcomes
    session.refresh_from_db()
    assert (session.state, session.seat_id) == (ServiceSession.State.HUMAN, boss_seat.pk)
    assert Seat.objects.get(pk=servicer_seat.pk).status == Seat.Status.OFFLINE
    _counts_exact()
