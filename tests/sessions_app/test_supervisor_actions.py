"""A supervisor reassigns, ends and requeues live sessions (sessions_app.flow.supervisor, closing)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.db.models import F
from django.utils import timezone

from cs_project.errors import ApplicationError
from seats.models import Seat
from seats.services import seat_create_with_user
from sessions_app import events
from sessions_app.flow import closing, supervisor, transfer
from sessions_app.flow.assignment import queue_drain
from sessions_app.flow.closing import session_supervisor_end
from sessions_app.flow.supervisor import seat_supervisor_status_set, session_supervisor_reassign
from sessions_app.models import Message, ServiceSession, SessionEvent
from tests.factories import session_make, session_served
from tests.support.threads import run_together


def _online(*seats: Seat) -> None:
    Seat.objects.filter(pk__in=[seat.pk for seat in seats]).update(status=Seat.Status.ONLINE)


def _load(seat: Seat) -> int:
    return Seat.objects.get(pk=seat.pk).active_sessions


@pytest.fixture
def sent_events(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, dict[str, Any]]]:
    sent: list[tuple[int, dict[str, Any]]] = []
    for module in (transfer, supervisor, closing):
        monkeypatch.setattr(module, "event_to_seat", lambda seat_id, event: sent.append((seat_id, dict(event))))
    return sent


@pytest.mark.django_db
def test_a_reassignment_moves_the_session_as_a_transfer_marked_by_a_supervisor(
    servicer_seat: Seat, other_servicer_seat: Seat, sent_events: list[tuple[int, dict[str, Any]]]
) -> None:
    _online(servicer_seat, other_servicer_seat)
    session = session_served(servicer_seat)
    session_supervisor_reassign(session_id=session.pk, to_seat_id=other_servicer_seat.pk, note="请跟进退款")

    session.refresh_from_db()
    assert (session.state, session.seat_id) == (ServiceSession.State.HUMAN, other_servicer_seat.pk)
    assert (_load(servicer_seat), _load(other_servicer_seat)) == (0, 1)
    event = session.events.get(kind=SessionEvent.Kind.TRANSFERRED)
    assert event.detail["by_supervisor"] is True
    assert event.detail["note"] == "请跟进退款"
    received = dict(sent_events)
    assert received[other_servicer_seat.pk]["type"] == "session.assigned"
    assert received[other_servicer_seat.pk]["detail"]["by_supervisor"] is True
    assert received[servicer_seat.pk]["type"] == "session.transferred_out"


@pytest.mark.django_db
def test_a_full_seat_is_refused_unless_forced_and_an_offline_one_always(
    servicer_seat: Seat, other_servicer_seat: Seat
) -> None:
    _online(servicer_seat)
    Seat.objects.filter(pk=other_servicer_seat.pk).update(status=Seat.Status.ONLINE, active_sessions=F("capacity"))
    session = session_served(servicer_seat)
    with pytest.raises(ApplicationError) as refused:
        session_supervisor_reassign(session_id=session.pk, to_seat_id=other_servicer_seat.pk)
    assert (refused.value.code, refused.value.status) == ("seat_unavailable", 409)

    session_supervisor_reassign(session_id=session.pk, to_seat_id=other_servicer_seat.pk, force=True)
    target = Seat.objects.get(pk=other_servicer_seat.pk)
    assert target.active_sessions == target.capacity + 1
    assert _load(servicer_seat) == 0

    Seat.objects.filter(pk=servicer_seat.pk).update(status=Seat.Status.OFFLINE)
    with pytest.raises(ApplicationError) as offline:
        session_supervisor_reassign(session_id=session.pk, to_seat_id=servicer_seat.pk, force=True)
    assert offline.value.code == "seat_offline"


@pytest.mark.django_db
def test_it_refuses_what_is_not_served_and_unknown_seats(servicer_seat: Seat) -> None:
    _online(servicer_seat)
    closed = session_make(seat=servicer_seat, state=ServiceSession.State.CLOSED)
    with pytest.raises(ApplicationError) as ended:
        session_supervisor_reassign(session_id=closed.pk, to_seat_id=None)
    assert ended.value.code == "not_served"
    with pytest.raises(ApplicationError) as missing:
        session_supervisor_reassign(session_id=closed.pk + 999, to_seat_id=None)
    assert (missing.value.code, missing.value.status) == ("not_found", 404)
    session = session_served(servicer_seat)
    with pytest.raises(ApplicationError) as same:
        session_supervisor_reassign(session_id=session.pk, to_seat_id=servicer_seat.pk)
    assert same.value.code == "same_seat"
    with pytest.raises(ApplicationError) as no_seat:
        session_supervisor_reassign(session_id=session.pk, to_seat_id=servicer_seat.pk + 999)
    assert no_seat.value.code == "seat_not_found"
    with pytest.raises(ApplicationError) as long_note:
        session_supervisor_reassign(session_id=session.pk, to_seat_id=None, note="长" * 501)
    assert long_note.value.code == "note_too_long"


@pytest.mark.django_db
def test_back_to_the_queue_puts_it_in_front_of_everyone_waiting(
    servicer_seat: Seat, sent_events: list[tuple[int, dict[str, Any]]]
) -> None:
    _online(servicer_seat)
    waiting = session_make(state=ServiceSession.State.QUEUED)
    ServiceSession.objects.filter(pk=waiting.pk).update(queued_at=timezone.now() - timedelta(minutes=5))
    session = session_served(servicer_seat)
    session_supervisor_reassign(session_id=session.pk, to_seat_id=None, note="换人处理")

    session.refresh_from_db()
    waiting.refresh_from_db()
    assert (session.state, session.seat_id) == (ServiceSession.State.QUEUED, None)
    assert session.queued_at is not None
    assert waiting.queued_at is not None
    assert session.queued_at < waiting.queued_at
    assert _load(servicer_seat) == 0
    queued = session.events.get(kind=SessionEvent.Kind.QUEUED)
    assert queued.detail == {"note": "换人处理", "by_supervisor": "reassign"}
    assert sent_events[0][0] == servicer_seat.pk
    assert sent_events[0][1]["type"] == "session.transferred_out"
    assert sent_events[0][1]["detail"]["requeued"] is True


@pytest.mark.django_db
def test_ending_with_a_reason_tells_the_customer_and_the_servicer(
    servicer_seat: Seat, sent_events: list[tuple[int, dict[str, Any]]]
) -> None:
    _online(servicer_seat)
    session = session_served(servicer_seat)
    assert session_supervisor_end(session_id=session.pk, note="  客户已电话处理  ")
    assert not session_supervisor_end(session_id=session.pk, note="again")

    session.refresh_from_db()
    assert (session.state, session.close_reason) == (ServiceSession.State.CLOSED, "supervisor_end")
    closed = session.events.get(kind=SessionEvent.Kind.CLOSED)
    assert closed.detail == {"reason": "supervisor_end", "note": "客户已电话处理"}
    texts = [m.payload.get("searchableContent") for m in session.messages.filter(author=Message.Author.SYSTEM)]
    assert "客户已电话处理" in texts
    to_servicer = [event for seat_id, event in sent_events if seat_id == servicer_seat.pk]
    assert to_servicer[-1]["type"] == "session.closed"
    assert to_servicer[-1]["detail"]["note"] == "客户已电话处理"
    assert _load(servicer_seat) == 0


@pytest.mark.django_db
def test_offline_with_requeue_sends_its_chats_to_the_front_in_their_order(
    servicer_seat: Seat, other_servicer_seat: Seat
) -> None:
    _online(servicer_seat)
    waiting = session_make(state=ServiceSession.State.QUEUED)
    ServiceSession.objects.filter(pk=waiting.pk).update(queued_at=timezone.now() - timedelta(minutes=5))
    first, second = session_served(servicer_seat), session_served(servicer_seat)
    now = timezone.now()
    ServiceSession.objects.filter(pk=first.pk).update(assigned_at=now - timedelta(minutes=9))
    ServiceSession.objects.filter(pk=second.pk).update(assigned_at=now - timedelta(minutes=3))

    assert seat_supervisor_status_set(seat_id=servicer_seat.pk, status=Seat.Status.OFFLINE, requeue=True) == 2

    queue = list(
        ServiceSession.objects.filter(state=ServiceSession.State.QUEUED)
        .order_by("queued_at", "pk")
        .values_list("pk", flat=True)
    )
    assert queue == [first.pk, second.pk, waiting.pk]
    seat = Seat.objects.get(pk=servicer_seat.pk)
    assert (seat.status, seat.active_sessions) == (Seat.Status.OFFLINE, 0)
    assert other_servicer_seat.active_sessions == 0


@pytest.mark.django_db
def test_requeued_chats_show_in_every_console_s_queue_panel(
    servicer_seat: Seat, monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    _online(servicer_seat)
    session_served(servicer_seat)
    sent: list[tuple[str, str]] = []
    monkeypatch.setattr(events, "_send", lambda group, event: sent.append((group, event["type"])))

    with django_capture_on_commit_callbacks(execute=True):
        seat_supervisor_status_set(seat_id=servicer_seat.pk, status=Seat.Status.OFFLINE, requeue=True)

    assert (events.CONSOLES_GROUP, "queue.changed") in sent


@pytest.mark.django_db
def test_away_keeping_its_chats_leaves_them_where_they_are(servicer_seat: Seat) -> None:
    _online(servicer_seat)
    session = session_served(servicer_seat)
    assert seat_supervisor_status_set(seat_id=servicer_seat.pk, status=Seat.Status.AWAY, requeue=False) == 0
    session.refresh_from_db()
    assert (session.state, session.seat_id) == (ServiceSession.State.HUMAN, servicer_seat.pk)
    seat = Seat.objects.get(pk=servicer_seat.pk)
    assert (seat.status, seat.active_sessions) == (Seat.Status.AWAY, 1)


@pytest.mark.django_db(transaction=True)
def test_reassignments_racing_each_other_never_push_the_target_over_capacity() -> None:
    assert connection.vendor == "postgresql"
    target = seat_create_with_user(username="target", password="pw-12345", display_name="Target", capacity=2)
    sources = [seat_create_with_user(username=f"src{i}", password="pw-12345", display_name=f"S{i}") for i in range(6)]
    _online(target, *sources)
    sessions = [session_served(seat) for seat in sources]
    outcomes = run_together(
        *[
            (lambda pk=session.pk: session_supervisor_reassign(session_id=pk, to_seat_id=target.pk))
            for session in sessions
        ]
    )
    assert sorted(outcomes) == ["ok", "ok"] + ["seat_unavailable"] * 4
    target.refresh_from_db()
    assert target.active_sessions == 2 == ServiceSession.objects.filter(seat=target).count()
    for seat in Seat.objects.filter(pk__in=[seat.pk for seat in sources]):
        assert seat.active_sessions == ServiceSession.objects.filter(seat=seat, state="human").count()


@pytest.mark.django_db(transaction=True)
def test_a_reassignment_racing_a_close_never_leaves_the_session_double_counted(
    servicer_seat: Seat, other_servicer_seat: Seat
) -> None:
    _online(servicer_seat, other_servicer_seat)
    for _round in range(5):
        session = session_served(servicer_seat)
        outcomes = run_together(
            lambda pk=session.pk: session_supervisor_reassign(session_id=pk, to_seat_id=other_servicer_seat.pk),
            lambda pk=session.pk: session_supervisor_end(session_id=pk, note="结束"),
        )
        assert sorted(outcomes) in (["ok", "ok"], ["not_served", "ok"])
        session.refresh_from_db()
        assert session.state == ServiceSession.State.CLOSED
    for seat in Seat.objects.all():
        assert seat.active_sessions == 0 == ServiceSession.objects.filter(seat=seat, state="human").count()


@pytest.mark.django_db(transaction=True)
def test_a_reassignment_racing_the_queue_drain_for_the_last_place_never_overfills_it(
    servicer_seat: Seat, other_servicer_seat: Seat
) -> None:
    for _round in range(4):
        Seat.objects.filter(pk=other_servicer_seat.pk).update(status=Seat.Status.ONLINE, capacity=1, active_sessions=0)
        Seat.objects.filter(pk=servicer_seat.pk).update(status=Seat.Status.AWAY)  # the drain may only pick Bob
        served = session_served(servicer_seat)
        waiting = session_make(state=ServiceSession.State.QUEUED)
        ServiceSession.objects.filter(pk=waiting.pk).update(queued_at=timezone.now())
        outcomes = run_together(
            lambda pk=served.pk: session_supervisor_reassign(session_id=pk, to_seat_id=other_servicer_seat.pk),
            queue_drain,
        )
        assert sorted(outcomes) in (["ok", "ok"], ["ok", "seat_unavailable"])
        bob = Seat.objects.get(pk=other_servicer_seat.pk)
        assert bob.active_sessions == 1 == ServiceSession.objects.filter(seat=bob, state="human").count()
        ServiceSession.objects.filter(state__in=["human", "queued"]).update(state="closed", seat=None)
        Seat.objects.update(active_sessions=0)
