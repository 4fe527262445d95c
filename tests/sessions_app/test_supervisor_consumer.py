"""The supervisors' live feed, driven through the real ASGI application (origin check, session
authentication, URL routing) with the Redis channel layer."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.contrib.auth.models import Group, User
from django.db import transaction
from django.test import Client
from pytest_django.fixtures import Settings as SettingsWrapper

from cs_project.asgi import application
from robots.wfprotocol import text_payload
from seats.models import Seat
from seats.services import SUPERVISOR_GROUP, seat_status_set
from sessions_app.flow.supervisor import session_supervisor_whisper
from sessions_app.flow.transcript import transcript_append
from sessions_app.models import Message, ServiceSession, SessionEvent
from sessions_app.supervision import consumers as supervisor_consumer
from tests.factories import session_make

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("redis_client")]


def _cookie_for(user: User | None) -> list[tuple[bytes, bytes]]:
    headers = [(b"origin", settings.CS_PUBLIC_URL.encode()), (b"host", b"localhost")]
    if user is not None:
        client = Client()
        client.force_login(user)
        headers.append((b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode()))
    return headers


async def _connect(user: User | None) -> tuple[WebsocketCommunicator, bool]:
    headers = await database_sync_to_async(_cookie_for)(user)
    communicator = WebsocketCommunicator(application, "/ws/supervisor/", headers=headers)
    connected, _subprotocol = await communicator.connect(timeout=5)
    if not connected:
        # As a server does after a refusal: the consumer gets its disconnect and ends here, not in
        # the event loop's teardown (where a refused consumer still reading its channel once hung
        # the run for the whole test timeout).
        await communicator.disconnect()
    return communicator, connected


@pytest.fixture
async def feed(supervisor: User) -> AsyncIterator[WebsocketCommunicator]:
    communicator, connected = await _connect(supervisor)
    assert connected
    assert await communicator.receive_json_from(timeout=5) == {"type": "hello"}
    yield communicator
    await communicator.disconnect()


async def test_an_anonymous_visitor_is_refused() -> None:
    _communicator, connected = await _connect(None)
    assert not connected


async def test_a_servicer_is_refused(servicer_seat: Seat) -> None:
    _communicator, connected = await _connect(servicer_seat.user)
    assert not connected


async def test_staff_without_the_supervisors_rights_are_refused() -> None:
    staff = await database_sync_to_async(User.objects.create_user)("clerk", password="pw", is_staff=True)
    _communicator, connected = await _connect(staff)
    assert not connected


async def test_another_origin_is_refused(supervisor: User) -> None:
    headers = [(b"origin", b"https://evil.example"), *(await database_sync_to_async(_cookie_for)(supervisor))[1:]]
    communicator = WebsocketCommunicator(application, "/ws/supervisor/", headers=headers)
    connected, _ = await communicator.connect(timeout=5)
    assert not connected
    await communicator.disconnect()  # the denier is a consumer too: it waits for its disconnect


async def test_every_timeline_entry_reaches_the_supervisors(feed: WebsocketCommunicator, servicer_seat: Seat) -> None:
    session: ServiceSession = await database_sync_to_async(session_make)(seat=servicer_seat)
    await database_sync_to_async(SessionEvent.objects.create)(
        session=session, kind=SessionEvent.Kind.ASSIGNED, seat=servicer_seat
    )
    event: dict[str, Any] = await feed.receive_json_from(timeout=5)
    assert event == {
        "type": "session.timeline",
        "session_id": session.pk,
        "kind": "assigned",
        "seat_id": servicer_seat.pk,
    }


async def test_seat_status_changes_reach_the_supervisors(feed: WebsocketCommunicator, servicer_seat: Seat) -> None:
    await database_sync_to_async(seat_status_set)(seat=servicer_seat, status=Seat.Status.ONLINE)
    event: dict[str, Any] = await feed.receive_json_from(timeout=5)
    assert (event["type"], event["seat_id"], event["status"]) == ("seat.status", servicer_seat.pk, "online")


async def test_a_ping_is_answered(feed: WebsocketCommunicator) -> None:
    await feed.send_json_to({"type": "ping"})
    assert await feed.receive_json_from(timeout=5) == {"type": "pong"}


async def test_the_feed_closes_once_the_rights_are_withdrawn(
    feed: WebsocketCommunicator, supervisor: User, servicer_seat: Seat, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(supervisor_consumer, "RECHECK_SECONDS", 0.0)
    group = await database_sync_to_async(Group.objects.get)(name=SUPERVISOR_GROUP)
    await database_sync_to_async(supervisor.groups.remove)(group)
    await database_sync_to_async(seat_status_set)(seat=servicer_seat, status=Seat.Status.AWAY)
    output = await feed.receive_output(timeout=5)
    assert output == {"type": "websocket.close", "code": supervisor_consumer.FORBIDDEN}


@pytest.mark.parametrize("origin", ["http://127.0.0.1:9999", "https://127.0.0.1:8000", "http://127.0.0.1"])
async def test_the_same_host_on_another_scheme_or_port_is_another_origin(
    supervisor: User, settings: SettingsWrapper, origin: str
) -> None:
    settings.CS_PUBLIC_URL = "http://127.0.0.1:8000"
    headers = [(b"origin", origin.encode()), *(await database_sync_to_async(_cookie_for)(supervisor))[1:]]
    communicator = WebsocketCommunicator(application, "/ws/supervisor/", headers=headers)
    connected, _ = await communicator.connect(timeout=5)
    assert not connected
    await communicator.disconnect()


async def test_an_allowed_host_on_the_public_scheme_and_port_is_the_same_site(
    supervisor: User, settings: SettingsWrapper
) -> None:
    """The demo opened at http://localhost:8000 rather than http://127.0.0.1:8000 still works."""
    settings.CS_PUBLIC_URL = "http://127.0.0.1:8000"
    headers = [(b"origin", b"http://localhost:8000"), *(await database_sync_to_async(_cookie_for)(supervisor))[1:]]
    communicator = WebsocketCommunicator(application, "/ws/supervisor/", headers=headers)
    connected, _ = await communicator.connect(timeout=5)
    assert connected
    await communicator.disconnect()


def _customer_says(session_id: int, text: str) -> int:
    with transaction.atomic():
        session = ServiceSession.objects.select_for_update().select_related("customer").get(pk=session_id)
        message = transcript_append(
            session=session, direction=Message.Direction.IN, author=Message.Author.CUSTOMER, payload=text_payload(text)
        )
    return message.seq


async def test_a_monitored_sessions_messages_and_whispers_arrive_and_no_other_sessions(
    feed: WebsocketCommunicator, supervisor: User, servicer_seat: Seat
) -> None:
    watched: ServiceSession = await database_sync_to_async(session_make)(seat=servicer_seat)
    other: ServiceSession = await database_sync_to_async(session_make)(seat=servicer_seat)
    await feed.send_json_to({"type": "monitor", "session_id": watched.pk})
    assert await feed.receive_json_from(timeout=5) == {"type": "monitoring", "session_id": watched.pk}

    await database_sync_to_async(_customer_says)(other.pk, "别的会话")
    await database_sync_to_async(_customer_says)(watched.pk, "我要退货")
    whisper_now = database_sync_to_async(session_supervisor_whisper)
    await whisper_now(session_id=watched.pk, supervisor=supervisor, text="先核实")
    said = await feed.receive_json_from(timeout=5)
    assert (said["type"], said["session_id"]) == ("message.new", watched.pk)
    assert said["payload"]["searchableContent"] == "我要退货"
    whisper = await feed.receive_json_from(timeout=5)
    assert (whisper["direction"], whisper["payload"]["searchableContent"]) == ("internal", "先核实")

    await feed.send_json_to({"type": "unmonitor"})
    assert await feed.receive_json_from(timeout=5) == {"type": "monitoring", "session_id": None}
    await database_sync_to_async(_customer_says)(watched.pk, "还在吗")
    assert await feed.receive_nothing(timeout=0.5)


async def test_a_monitor_request_without_a_session_number_gets_an_error(feed: WebsocketCommunicator) -> None:
    await feed.send_json_to({"type": "monitor", "session_id": "7"})
    answer = await feed.receive_json_from(timeout=5)
    assert (answer["type"], answer["code"]) == ("error", "bad_request")
