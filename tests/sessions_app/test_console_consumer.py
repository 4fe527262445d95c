"""The console's websocket, driven through the real ASGI application and the Redis channel layer."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator

import pytest
import redis
from asgiref.sync import sync_to_async
from celery.contrib.testing.worker import start_worker
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.contrib.auth.models import User
from django.contrib.sessions.models import Session
from django.db import transaction
from django.test import Client
from pytest_django.fixtures import Settings as SettingsWrapper

from cs_project.celery import app as celery_app
from robots.models import OutboundMessage
from robots.wfprotocol import TEXT_MAX_LENGTH, text_payload
from seats.models import Seat
from sessions_app.flow.assignment import session_request_human
from sessions_app.flow.transcript import transcript_append
from sessions_app.models import Message, ServiceSession, ServiceSettings
from tests.factories import customer_make, session_served
from tests.support.consoles import Frame, closed_with, console_connect, console_open, next_frame
from tests.support.hostile_json import nested_text

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _empty_redis(redis_client: redis.Redis) -> None:
    """Channel-layer groups and presence start empty in every test."""


async def _ask(communicator: WebsocketCommunicator, action: str, **fields: object) -> Frame:
    await communicator.send_json_to({"action": action, "request_id": f"{action}-1", **fields})
    deadline = time.monotonic() + 5
    while True:
        frame: Frame = await communicator.receive_json_from(timeout=max(0.05, deadline - time.monotonic()))
        if frame["type"] in ("ack", "error") and frame["request_id"] == f"{action}-1":
            return frame


def _customer_says(session_id: int, text: str) -> int:
    with transaction.atomic():
        session = ServiceSession.objects.select_for_update().select_related("customer").get(pk=session_id)
        message = transcript_append(
            session=session,
            direction=Message.Direction.IN,
            author=Message.Author.CUSTOMER,
            payload=text_payload(text),
        )
    return message.seq


def _set_status(seat: Seat, status: Seat.Status) -> None:
    Seat.objects.filter(pk=seat.pk).update(status=status)


async def test_an_anonymous_visitor_is_refused_with_4401() -> None:
    communicator = await console_open()
    await closed_with(communicator, 4401)


async def test_a_user_without_a_seat_is_refused_with_4403(supervisor: User) -> None:
    communicator = await console_open(supervisor)
    await closed_with(communicator, 4403)


async def test_a_servicer_is_greeted_with_their_seat(servicer_seat: Seat) -> None:
    communicator = await console_open(servicer_seat.user)
    hello = await communicator.receive_json_from(timeout=5)
    assert hello["seat"]["id"] == servicer_seat.pk
    assert hello["seat"]["name"] == "Alice"
    assert hello["seat"]["status"] == "offline"
    await communicator.disconnect()


async def test_another_servicers_session_is_refused_for_reply_end_and_transfer(
    servicer_seat: Seat, other_servicer_seat: Seat
) -> None:
    session = await sync_to_async(session_served)(servicer_seat)
    await sync_to_async(_set_status)(other_servicer_seat, Seat.Status.ONLINE)
    bob = await console_connect(other_servicer_seat.user)
    refusals = [
        await _ask(bob, "reply", session_id=session.pk, text="我冒充客服"),
        await _ask(bob, "end", session_id=session.pk),
        await _ask(bob, "transfer", session_id=session.pk, to_seat_id=other_servicer_seat.pk, note=""),
    ]
    assert [(frame["type"], frame["code"]) for frame in refusals] == [("error", "not_owner")] * 3
    assert all(frame["reason"] for frame in refusals)
    session = await ServiceSession.objects.aget(pk=session.pk)
    assert (session.state, session.seat_id) == (ServiceSession.State.HUMAN, servicer_seat.pk)
    assert not await Message.objects.filter(session=session).aexists()
    await bob.disconnect()


async def test_malformed_actions_get_a_reason(servicer_seat: Seat) -> None:
    alice = await console_connect(servicer_seat.user, accept_language="en")
    unknown = await _ask(alice, "dance")
    assert (unknown["type"], unknown["code"]) == ("error", "unknown_action")
    bad = await _ask(alice, "reply", session_id="1", text="hi")
    assert (bad["code"], bad["reason"]) == ("bad_request", "'session_id' must be a number.")
    empty = await _ask(alice, "reply", session_id=1, text="   ")
    assert empty["code"] == "bad_request"
    await alice.disconnect()


async def test_an_assignment_and_the_customers_messages_arrive_live(servicer_seat: Seat) -> None:
    await sync_to_async(_set_status)(servicer_seat, Seat.Status.ONLINE)
    alice = await console_connect(servicer_seat.user)

    def ask_for_human() -> int:
        customer = customer_make()
        session = ServiceSession.objects.create(customer=customer)
        with transaction.atomic():
            locked = ServiceSession.objects.select_for_update().select_related("customer").get(pk=session.pk)
            session_request_human(session=locked, config=ServiceSettings.load())
        return session.pk

    session_id = await sync_to_async(ask_for_human)()
    assigned = await next_frame(alice, "session.assigned")
    assert assigned["session_id"] == session_id
    seq = await sync_to_async(_customer_says)(session_id, "我的订单还没到")
    message = await next_frame(alice, "message.new")
    while message["seq"] != seq:  # the assignment notices to the customer come first
        message = await next_frame(alice, "message.new")
    assert message["payload"]["searchableContent"] == "我的订单还没到"
    assert (message["session_id"], message["author"], message["direction"]) == (session_id, "customer", "in")
    await alice.disconnect()


async def test_a_reply_is_acknowledged_with_its_seq_and_echoed_as_an_event(servicer_seat: Seat) -> None:
    session = await sync_to_async(session_served)(servicer_seat)
    alice = await console_connect(servicer_seat.user)
    ack = await _ask(alice, "reply", session_id=session.pk, text="您好，请讲")
    assert ack["type"] == "ack"
    assert ack["result"] == {"session_id": session.pk, "seq": 1}
    echoed = await next_frame(alice, "message.new")
    assert (echoed["seq"], echoed["author"], echoed["payload"]["searchableContent"]) == (1, "servicer", "您好，请讲")
    stored = await Message.objects.aget(session=session, seq=1)
    assert stored.seat_id == servicer_seat.pk
    await alice.disconnect()


async def test_resync_after_a_reconnect_returns_exactly_the_missed_messages(servicer_seat: Seat) -> None:
    session = await sync_to_async(session_served)(servicer_seat)
    for text in ("一", "二", "三"):
        await sync_to_async(_customer_says)(session.pk, text)
    alice = await console_connect(servicer_seat.user)
    first = await _ask(alice, "resync", sessions={})
    assert [m["seq"] for m in first["result"]["messages"]] == [1, 2, 3]
    await alice.disconnect()

    for text in ("四", "五"):  # said while the console was away
        await sync_to_async(_customer_says)(session.pk, text)
    alice = await console_connect(servicer_seat.user)
    again = await _ask(alice, "resync", sessions={str(session.pk): 3})
    result = again["result"]
    assert [(m["seq"], m["payload"]["searchableContent"]) for m in result["messages"]] == [(4, "四"), (5, "五")]
    assert [row["id"] for row in result["sessions"]] == [session.pk]
    assert result["sessions"][0]["last_seq"] == 5
    assert result["more"] == []
    await alice.disconnect()


async def test_resync_never_returns_another_seats_sessions(servicer_seat: Seat, other_servicer_seat: Seat) -> None:
    theirs = await sync_to_async(session_served)(servicer_seat)
    await sync_to_async(_customer_says)(theirs.pk, "私密")
    bob = await console_connect(other_servicer_seat.user)
    result = (await _ask(bob, "resync", sessions={str(theirs.pk): 0}))["result"]
    assert result == {"sessions": [], "messages": [], "more": []}
    await bob.disconnect()


async def test_the_status_switch_changes_the_seat_and_tells_every_console(servicer_seat: Seat) -> None:
    first, second = await console_connect(servicer_seat.user), await console_connect(servicer_seat.user)
    ack = await _ask(first, "status", status="online")
    assert ack["result"]["seat"]["status"] == "online"
    event = await next_frame(second, "seat.status")
    assert (event["status"], event["automatic"]) == ("online", False)
    refused = await _ask(first, "status", status="offline")
    assert refused["code"] == "bad_request", "offline is for signing out"
    await first.disconnect()
    await second.disconnect()


async def test_logging_out_elsewhere_closes_the_console_at_its_next_action(servicer_seat: Seat) -> None:
    alice = await console_connect(servicer_seat.user)
    await Session.objects.all().adelete()  # what logging out in another tab does to this browser's session
    await alice.send_json_to({"action": "ping", "request_id": "p"})
    await closed_with(alice, 4401)


# Presence: a real Celery worker (a thread of this process) runs the scheduled checks.


@pytest.fixture
def presence_worker(redis_client: redis.Redis, settings: SettingsWrapper) -> Iterator[None]:
    settings.CS_PRESENCE_GRACE_SECONDS = 1
    with start_worker(celery_app, pool="solo", perform_ping_check=False, loglevel="WARNING", shutdown_timeout=10):
        yield


async def _seat_state(seat: Seat) -> tuple[str, bool]:
    fresh = await Seat.objects.aget(pk=seat.pk)
    return fresh.status, fresh.away_automatic


async def _eventually(seat: Seat, expected: tuple[str, bool], *, timeout: float = 8) -> None:
    deadline = time.monotonic() + timeout
    while (state := await _seat_state(seat)) != expected:
        assert time.monotonic() < deadline, f"seat is {state}, expected {expected}"
        await asyncio.sleep(0.1)


async def test_a_seat_goes_away_after_the_grace_and_comes_back_when_the_console_reconnects(
    servicer_seat: Seat, presence_worker: None
) -> None:
    await sync_to_async(_set_status)(servicer_seat, Seat.Status.ONLINE)
    alice = await console_connect(servicer_seat.user)
    await alice.disconnect()
    assert await _seat_state(servicer_seat) == ("online", False), "still taking customers during the grace"
    await _eventually(servicer_seat, ("away", True))

    alice = await console_open(servicer_seat.user)
    hello = await alice.receive_json_from(timeout=5)
    assert (hello["seat"]["status"], hello["seat"]["automatic"]) == ("online", False)
    assert await _seat_state(servicer_seat) == ("online", False)
    await alice.disconnect()


async def test_a_seat_with_another_console_open_stays_online(servicer_seat: Seat, presence_worker: None) -> None:
    await sync_to_async(_set_status)(servicer_seat, Seat.Status.ONLINE)
    first, second = await console_connect(servicer_seat.user), await console_connect(servicer_seat.user)
    await first.disconnect()
    await asyncio.sleep(2)
    assert await _seat_state(servicer_seat) == ("online", False)
    await second.disconnect()
    await _eventually(servicer_seat, ("away", True))


async def test_a_servicers_own_away_is_kept_on_reconnect(servicer_seat: Seat, presence_worker: None) -> None:
    await sync_to_async(_set_status)(servicer_seat, Seat.Status.ONLINE)
    alice = await console_connect(servicer_seat.user)
    await _ask(alice, "status", status="away")
    await alice.disconnect()
    await asyncio.sleep(1.5)
    alice = await console_connect(servicer_seat.user)
    assert await _seat_state(servicer_seat) == ("away", False)
    await alice.disconnect()


async def test_logging_out_closes_that_browsers_console_at_once_and_no_other(servicer_seat: Seat) -> None:
    """No action needed: the seat's events stop reaching a browser whose login ended."""
    client = Client()
    await sync_to_async(client.force_login)(servicer_seat.user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    this_browser = await console_connect(cookie=cookie)
    other_browser = await console_connect(servicer_seat.user)
    await sync_to_async(client.logout)()
    await closed_with(this_browser, 4401)
    await other_browser.send_json_to({"action": "ping", "request_id": "still-here"})
    assert (await next_frame(other_browser, "ack"))["request_id"] == "still-here"
    await other_browser.disconnect()


async def test_deactivating_a_user_closes_all_their_consoles_at_once(servicer_seat: Seat) -> None:
    first, second = await console_connect(servicer_seat.user), await console_connect(servicer_seat.user)
    user = servicer_seat.user
    user.is_active = False
    await sync_to_async(user.save)()  # what the admin's user form does
    await closed_with(first, 4401)
    await closed_with(second, 4401)


async def test_frames_that_are_not_json_objects_get_an_error_frame_and_the_socket_stays_open(
    servicer_seat: Seat,
) -> None:
    alice = await console_connect(servicer_seat.user)
    for frame in (
        {"bytes_data": b"\x00\x01"},
        {"text_data": "not json"},
        {"text_data": "[" * 100_000 + "]" * 100_000},
        {"text_data": "[" * 5_000 + "]" * 5_000},
        {"text_data": "[]"},
    ):
        await alice.send_to(**frame)
        error = await next_frame(alice, "error")
        assert error["code"] == "bad_request"
    pong = await _ask(alice, "ping")
    assert pong["type"] == "ack", "still open"
    await alice.disconnect()


async def test_frames_the_json_policy_refuses_get_its_reason_and_write_nothing(servicer_seat: Seat) -> None:
    """cs_project.json_input, as for callbacks and the API: before, a lone surrogate in a reply
    reached PostgreSQL and 1e400 (infinity) the resync's int(); each crashed the consumer (close 1011)."""
    session = await sync_to_async(session_served)(servicer_seat)
    alice = await console_connect(servicer_seat.user, accept_language="en")
    refused = [
        await _ask(alice, "reply", session_id=session.pk, text="a\u0000b"),
        await _ask(alice, "reply", session_id=session.pk, text="\ud800"),
        await _ask(alice, "transfer", session_id=session.pk, to_seat_id=servicer_seat.pk, note="x\u0000"),
        await _ask(alice, "resync", sessions={str(session.pk): 1e400}),
        await _ask(alice, "reply", session_id=session.pk, text="hi", extra=json.loads(nested_text(33))),
    ]
    assert [(frame["type"], frame["code"]) for frame in refused] == [("error", "bad_request")] * 5
    assert [frame["reason"] for frame in refused] == [
        "Send a JSON object: this frame contains a NUL character.",
        "Send a JSON object: this frame contains a lone surrogate (not Unicode text).",
        "Send a JSON object: this frame contains a NUL character.",
        "Send a JSON object: this frame contains a number that is not finite.",
        "Send a JSON object: this frame is nested deeper than 32 levels.",
    ]
    assert not await Message.objects.filter(session=session).aexists()
    session = await ServiceSession.objects.aget(pk=session.pk)
    assert (session.state, session.seat_id, session.last_seq) == (ServiceSession.State.HUMAN, servicer_seat.pk, 0)
    pong = await _ask(alice, "ping")
    assert pong["type"] == "ack", "still open"
    await alice.disconnect()


async def test_a_reply_over_the_limit_is_refused_in_the_consoles_language_and_nothing_is_sent(
    servicer_seat: Seat,
) -> None:
    session = await sync_to_async(session_served)(servicer_seat)
    site_default = await console_connect(servicer_seat.user)
    english = await console_connect(servicer_seat.user, accept_language="en-US,en;q=0.9")
    switched = await console_connect(servicer_seat.user, accept_language="en", language_cookie="zh-hans")
    too_long = "好" * (TEXT_MAX_LENGTH + 1)
    answers = [
        await _ask(console, "reply", session_id=session.pk, text=too_long)
        for console in (site_default, english, switched)
    ]
    assert [(frame["type"], frame["code"]) for frame in answers] == [("error", "too_long")] * 3
    most, given = f"{TEXT_MAX_LENGTH:,}", f"{TEXT_MAX_LENGTH + 1:,}"
    assert answers[0]["reason"] == f"消息过长：每条消息最多 {most} 个字，这条有 {given} 个字。"
    assert answers[1]["reason"] == f"The message is too long: at most {most} characters, this one has {given}."
    assert answers[2]["reason"] == answers[0]["reason"], "the language switch's choice wins over the browser's"
    assert not await Message.objects.filter(session=session).aexists()
    assert not await OutboundMessage.objects.aexists()
    for console in (site_default, english, switched):
        await console.disconnect()


async def test_the_longest_reply_is_counted_in_characters_and_sent_whole(servicer_seat: Seat) -> None:
    """Emoji count one each, as the console counts them, however the frame writes them (Python's
    json escapes each as two \\u escapes, twelve characters of the frame)."""
    session = await sync_to_async(session_served)(servicer_seat)
    alice = await console_connect(servicer_seat.user)
    longest = "😀" * (TEXT_MAX_LENGTH - 1) + "好"
    ack = await _ask(alice, "reply", session_id=session.pk, text=longest)
    assert ack["type"] == "ack", ack
    message = await Message.objects.aget(session=session)
    assert message.payload["searchableContent"] == longest
    sent = await OutboundMessage.objects.aget(reference=message.pk)
    assert sent.payload["searchableContent"] == longest
    await alice.disconnect()


async def test_the_services_refusals_come_in_the_consoles_language(servicer_seat: Seat) -> None:
    session = await sync_to_async(session_served)(servicer_seat)
    await ServiceSession.objects.filter(pk=session.pk).aupdate(state=ServiceSession.State.CLOSED)
    chinese = await console_connect(servicer_seat.user)
    english = await console_connect(servicer_seat.user, accept_language="en")
    for console, ended, long_note in (
        (chinese, "本次会话已结束。", "“note”超过 500 个字。"),
        (english, "This session has ended.", "'note' is longer than 500 characters."),
    ):
        reply = await _ask(console, "reply", session_id=session.pk, text="您好")
        assert (reply["code"], reply["reason"]) == ("closed", ended)
        transfer = await _ask(console, "transfer", session_id=session.pk, to_seat_id=1, note="x" * 501)
        assert (transfer["code"], transfer["reason"]) == ("too_long", long_note)
        await console.disconnect()


async def test_frames_refused_before_any_action_are_explained_in_the_consoles_language(servicer_seat: Seat) -> None:
    alice = await console_connect(servicer_seat.user)
    await alice.send_to(bytes_data=b"\x00")
    await alice.send_to(text_data="not json")
    await alice.send_to(text_data="[]")
    await alice.send_to(text_data=json.dumps({"action": "dance", "request_id": "d"}))
    reasons = [(await next_frame(alice, "error"))["reason"] for _ in range(4)]
    assert reasons == [
        "请发送包含 JSON 对象的文本帧。",
        "请发送 JSON 对象：此帧不是 JSON。",
        "请发送 JSON 对象。",
        "未知操作。",
    ]
    await alice.disconnect()
