"""A servicer transfers a session to another online seat (sessions_app.flow.transfer)."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest
from django.db import connection
from django.db.models import F

from cs_project.errors import ApplicationError
from robots.models import Robot
from robots.wfprotocol import CsControl
from seats.models import Seat
from seats.services import seat_create_with_user
from sessions_app.flow import transfer
from sessions_app.flow.transfer import session_transfer
from sessions_app.models import ServiceSession, SessionEvent
from tests.factories import message_make, session_make, session_served
from tests.support.cs_stack import Stack


def _online(*seats: Seat) -> None:
    Seat.objects.filter(pk__in=[seat.pk for seat in seats]).update(status=Seat.Status.ONLINE)


@pytest.fixture
def sent_events(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, dict[str, Any]]]:
    sent: list[tuple[int, dict[str, Any]]] = []
    monkeypatch.setattr(transfer, "event_to_seat", lambda seat_id, event: sent.append((seat_id, dict(event))))
    return sent


@pytest.mark.django_db
def test_it_moves_the_session_and_the_load_and_records_the_note(
    servicer_seat: Seat, other_servicer_seat: Seat, sent_events: list[tuple[int, dict[str, Any]]]
) -> None:
    _online(servicer_seat, other_servicer_seat)
    session = session_served(servicer_seat)
    message_make(session, "我要退款")
    session_transfer(
        session_id=session.pk, from_seat=servicer_seat, to_seat_id=other_servicer_seat.pk, note="退款已审核"
    )

    session.refresh_from_db()
    assert (session.state, session.seat_id) == (ServiceSession.State.HUMAN, other_servicer_seat.pk)
    servicer_seat.refresh_from_db()
    other_servicer_seat.refresh_from_db()
    assert (servicer_seat.active_sessions, other_servicer_seat.active_sessions) == (0, 1)
    event = session.events.get(kind=SessionEvent.Kind.TRANSFERRED)
    assert event.seat_id == other_servicer_seat.pk
    assert event.detail == {"from_seat": servicer_seat.pk, "to_seat": other_servicer_seat.pk, "note": "退款已审核"}
    received = {seat_id: event for seat_id, event in sent_events}
    assert received[other_servicer_seat.pk]["type"] == "session.assigned"
    assert received[other_servicer_seat.pk]["detail"]["note"] == "退款已审核"
    assert received[other_servicer_seat.pk]["detail"]["from_seat"] == "Alice"
    assert received[servicer_seat.pk]["type"] == "session.transferred_out"
    assert received[servicer_seat.pk]["detail"]["to_seat"] == "Bob"
    # The transcript goes on in the same session: the notice to the customer follows the old messages.
    assert list(session.messages.order_by("seq").values_list("seq", "author")) == [
        (1, "customer"),
        (2, "system"),
        (3, "system"),
    ]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("target_state", "code"),
    [("offline", "seat_unavailable"), ("away", "seat_unavailable"), ("full", "seat_unavailable")],
)
def test_it_refuses_a_seat_that_cannot_take_the_session(
    servicer_seat: Seat, other_servicer_seat: Seat, target_state: str, code: str
) -> None:
    _online(servicer_seat)
    if target_state == "full":
        Seat.objects.filter(pk=other_servicer_seat.pk).update(status=Seat.Status.ONLINE, active_sessions=F("capacity"))
    else:
        Seat.objects.filter(pk=other_servicer_seat.pk).update(status=target_state)
    session = session_served(servicer_seat)
    with pytest.raises(ApplicationError) as refused:
        session_transfer(session_id=session.pk, from_seat=servicer_seat, to_seat_id=other_servicer_seat.pk)
    assert (refused.value.code, refused.value.status) == (code, 409)
    session.refresh_from_db()
    assert session.seat_id == servicer_seat.pk
    assert Seat.objects.get(pk=servicer_seat.pk).active_sessions == 1


@pytest.mark.django_db
def test_only_the_serving_seat_may_transfer(servicer_seat: Seat, other_servicer_seat: Seat) -> None:
    _online(servicer_seat, other_servicer_seat)
    session = session_served(servicer_seat)
    with pytest.raises(ApplicationError) as not_yours:
        session_transfer(session_id=session.pk, from_seat=other_servicer_seat, to_seat_id=other_servicer_seat.pk)
    assert not_yours.value.code == "not_owner"
    with pytest.raises(ApplicationError) as same:
        session_transfer(session_id=session.pk, from_seat=servicer_seat, to_seat_id=servicer_seat.pk)
    assert same.value.code == "same_seat"
    closed = session_make(seat=servicer_seat, state=ServiceSession.State.CLOSED)
    with pytest.raises(ApplicationError) as ended:
        session_transfer(session_id=closed.pk, from_seat=servicer_seat, to_seat_id=other_servicer_seat.pk)
    assert ended.value.code == "closed"


@pytest.mark.django_db
def test_a_long_note_is_refused(servicer_seat: Seat, other_servicer_seat: Seat) -> None:
    _online(servicer_seat, other_servicer_seat)
    session = session_served(servicer_seat)
    with pytest.raises(ApplicationError) as refused:
        session_transfer(
            session_id=session.pk, from_seat=servicer_seat, to_seat_id=other_servicer_seat.pk, note="长" * 501
        )
    assert refused.value.code == "note_too_long"


def _transfer_in_thread(
    session_id: int, from_seat: Seat, to_seat_id: int, barrier: threading.Barrier, outcomes: list[str]
) -> None:
    try:
        barrier.wait(timeout=30)
        session_transfer(session_id=session_id, from_seat=from_seat, to_seat_id=to_seat_id)
        outcomes.append("ok")
    except ApplicationError as exc:
        outcomes.append(exc.code)
    except BaseException as exc:  # noqa: BLE001 - reported by the test
        outcomes.append(repr(exc))
    finally:
        connection.close()


@pytest.mark.django_db(transaction=True)
def test_simultaneous_transfers_never_push_the_target_over_capacity() -> None:
    assert connection.vendor == "postgresql"
    target = seat_create_with_user(username="target", password="pw-12345", display_name="Target", capacity=2)
    sources = [seat_create_with_user(username=f"src{i}", password="pw-12345", display_name=f"Src{i}") for i in range(8)]
    _online(target, *sources)
    sessions = [session_served(seat) for seat in sources]
    barrier = threading.Barrier(len(sessions))
    outcomes: list[str] = []
    threads = [
        threading.Thread(target=_transfer_in_thread, args=(session.pk, seat, target.pk, barrier, outcomes))
        for session, seat in zip(sessions, sources, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(outcomes) == ["ok", "ok"] + ["seat_unavailable"] * 6
    target.refresh_from_db()
    assert target.active_sessions == 2 == ServiceSession.objects.filter(seat=target).count()
    for seat in Seat.objects.filter(pk__in=[seat.pk for seat in sources]):
        assert seat.active_sessions == ServiceSession.objects.filter(seat=seat, state="human").count()


@pytest.mark.django_db(transaction=True)
def test_opposite_transfers_at_once_both_succeed_without_deadlock(
    servicer_seat: Seat, other_servicer_seat: Seat
) -> None:
    _online(servicer_seat, other_servicer_seat)
    alices, bobs = session_served(servicer_seat), session_served(other_servicer_seat)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []
    threads = [
        threading.Thread(
            target=_transfer_in_thread, args=(alices.pk, servicer_seat, other_servicer_seat.pk, barrier, outcomes)
        ),
        threading.Thread(
            target=_transfer_in_thread, args=(bobs.pk, other_servicer_seat, servicer_seat.pk, barrier, outcomes)
        ),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert outcomes == ["ok", "ok"]
    assert ServiceSession.objects.get(pk=alices.pk).seat_id == other_servicer_seat.pk
    assert ServiceSession.objects.get(pk=bobs.pk).seat_id == servicer_seat.pk
    assert {seat.active_sessions for seat in Seat.objects.all()} == {1}


def _controls(stack: Stack, user: str, kind: CsControl) -> list[dict[str, object]]:
    return [json.loads(m["payload"]["content"]) for m in stack.im.inbox(user) if m["payload"]["type"] == kind]


def test_the_customer_is_told_and_the_new_servicers_im_app_gets_the_handover(cs_stack: Stack) -> None:
    alice = cs_stack.online_seat("alice")
    customer = cs_stack.new_customer()
    cs_stack.im.say(customer, "我的快递丢了")
    cs_stack.im.say(customer, "转人工")
    cs_stack.im.wait_for_text(customer, "Alice 为您服务")
    bob = cs_stack.online_seat("bob")
    session = ServiceSession.objects.get(customer__im_user_id=customer)

    session_transfer(session_id=session.pk, from_seat=alice, to_seat_id=bob.pk, note="需要补发")

    cs_stack.im.wait_for_text(customer, "已转接给客服 Bob")
    assert _controls(cs_stack, customer, CsControl.SERVICER_ASSIGNED)[-1] == {
        "servicer": {"id": str(bob.pk), "name": "Bob", "avatar": ""}
    }
    handover = cs_stack.im.wait_for_text(bob.im_user_id, "转接会话")
    assert handover["sender"] == Robot.objects.get(shadow_of=customer).robot_id
    summary = handover["payload"]["searchableContent"]
    assert "Alice 将客户" in summary
    assert "备注：需要补发" in summary
    assert "客户: 我的快递丢了" in summary
    # From now on the customer's messages reach Bob's IM app, not Alice's.
    cs_stack.im.say(customer, "还在吗")
    cs_stack.im.wait_for_text(bob.im_user_id, "还在吗")
    assert "还在吗" not in cs_stack.im.texts(alice.im_user_id)
