"""Hypothesis against the servicer console's websocket (sessions_app/console/consumers.py): arbitrary
text and binary frames, arbitrary JSON, and actions with fields of the wrong type, huge strings and
deep nesting. Every frame is answered by one ack or one error frame with a reason, the socket stays
open, and a refused frame writes nothing (no Message row, the session as it was)."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
import redis
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.db.models import F
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from seats.models import Seat
from sessions_app.models import Message, ServiceSession
from tests.factories import session_make
from tests.support.consoles import Frame, console_connect
from tests.support.hostile_json import hostile_values, huge_strings, json_values, nested_text

pytestmark = pytest.mark.django_db(transaction=True)


def _nested_reply(depth: int) -> str:
    return '{"action": "reply", "request_id": 1, "text": ' + nested_text(depth) + "}"


raw_frames = st.one_of(
    st.builds(lambda data: {"bytes": data}, st.binary(max_size=200)),
    st.builds(lambda text: {"text": text}, st.text(max_size=200)),
    st.builds(lambda value: {"text": json.dumps(value)}, json_values),
    st.builds(lambda depth: {"text": _nested_reply(depth)}, st.integers(min_value=1, max_value=20_000)),
    st.builds(lambda text: {"text": json.dumps({"action": "reply", "text": text})}, huge_strings),
)


@st.composite
def near_valid_actions(draw: st.DrawFn, session_id: int, other_seat_id: int) -> Frame:
    """A valid action on the servicer's own session, with one or two of its fields (now and then
    ``action`` or ``request_id``) replaced by a hostile value or removed."""
    valid: dict[str, dict[str, Any]] = {
        "reply": {"session_id": session_id, "text": "您好"},
        "end": {"session_id": session_id},
        "transfer": {"session_id": session_id, "to_seat_id": other_seat_id, "note": "VIP"},
        "status": {"status": draw(st.sampled_from(["online", "away"]))},
        "resync": {"sessions": {str(session_id): 0}},
        "ping": {},
    }
    action = draw(st.sampled_from(sorted(valid)))
    body: dict[str, Any] = {"action": action, "request_id": f"{action}-1", **valid[action]}
    fields = [*valid[action], *draw(st.lists(st.sampled_from(["action", "request_id"]), max_size=1))]
    for field in draw(st.lists(st.sampled_from(fields), min_size=1, max_size=2, unique=True)) if fields else []:
        if draw(st.integers(min_value=0, max_value=4)) == 0:
            body.pop(field)
        else:
            body[field] = draw(hostile_values)
    return {"text": json.dumps(body)}


@pytest.fixture(autouse=True)
def _empty_redis(redis_client: redis.Redis) -> None:
    """Channel-layer groups and presence start empty."""


def _serving(seat: Seat) -> ServiceSession:
    session = session_make(seat=seat)
    Seat.objects.filter(pk=seat.pk).update(active_sessions=F("active_sessions") + 1)
    return session


def _stored(session_id: int) -> tuple[int, int, str, int | None]:
    """What a refused frame must not change: the messages, the transcript's last seq, the session's
    state and seat."""
    session = ServiceSession.objects.get(pk=session_id)
    return Message.objects.count(), session.last_seq, session.state, session.seat_id


async def _answer(console: WebsocketCommunicator) -> Frame:
    """The ack or error answering the frame just sent; events on the way (an echoed reply) skipped."""
    deadline = time.monotonic() + 5
    while True:
        frame: Frame = await console.receive_json_from(timeout=max(0.05, deadline - time.monotonic()))
        if frame["type"] in ("ack", "error"):
            return frame


async def _each_frame_is_answered(console: WebsocketCommunicator, session_id: int, frames: list[Frame]) -> None:
    for frame in frames:
        before = await sync_to_async(_stored)(session_id)
        # As the ASGI server passes it (send_to refuses the empty frames a browser may send).
        await console.send_input({"type": "websocket.receive", **frame})
        answer = await _answer(console)
        if answer["type"] == "error":
            assert isinstance(answer["reason"], str), answer
            assert answer["reason"], answer
            assert answer["code"], answer
            assert await sync_to_async(_stored)(session_id) == before, f"a refused frame wrote: {frame!r:.300}"
    await console.send_json_to({"action": "ping", "request_id": "still-open"})
    pong = await _answer(console)
    assert (pong["type"], pong["request_id"]) == ("ack", "still-open"), "the socket stays open and answering"


class HeldConsole:
    """One logged-in console for all of a test's examples (connecting costs more than many frames);
    after a failing example a new one, so that hypothesis shrinks against a fresh socket."""

    def __init__(self, seat: Seat) -> None:
        self.seat = seat
        self.communicator: WebsocketCommunicator | None = None

    async def answers_each(self, session_id: int, frames: list[Frame]) -> None:
        if self.communicator is None:
            self.communicator = await console_connect(self.seat.user)
        try:
            await _each_frame_is_answered(self.communicator, session_id, frames)
        except BaseException:
            with contextlib.suppress(Exception):  # the consumer's own crash, already being reported
                await self.close()
            raise

    async def close(self) -> None:
        communicator, self.communicator = self.communicator, None
        if communicator is not None:
            await communicator.disconnect()


@pytest.fixture
async def console(servicer_seat: Seat) -> AsyncIterator[HeldConsole]:
    held = HeldConsole(servicer_seat)
    yield held
    await held.close()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(frames=st.lists(raw_frames, min_size=1, max_size=5))
async def test_arbitrary_frames_each_get_an_answer_and_the_socket_stays_open(
    servicer_seat: Seat, console: HeldConsole, frames: list[Frame]
) -> None:
    session = await sync_to_async(_serving)(servicer_seat)
    await console.answers_each(session.pk, frames)


@settings(max_examples=350, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
async def test_near_valid_actions_are_done_or_refused_with_a_reason_and_nothing_half_written(
    servicer_seat: Seat, other_servicer_seat: Seat, console: HeldConsole, data: st.DataObject
) -> None:
    session = await sync_to_async(_serving)(servicer_seat)
    # The other seat takes transfers, so that a valid transfer is done, not refused.
    await Seat.objects.filter(pk=other_servicer_seat.pk).aupdate(status=Seat.Status.ONLINE)
    frames = data.draw(st.lists(near_valid_actions(session.pk, other_servicer_seat.pk), min_size=1, max_size=5))
    await console.answers_each(session.pk, frames)
