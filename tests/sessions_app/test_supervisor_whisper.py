"""A supervisor's whisper to the servicer (sessions_app.flow.supervisor.session_supervisor_whisper):
internal in the transcript, to that servicer's console only, never to the customer."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from cs_project.errors import ApplicationError
from robots.models import OutboundMessage
from robots.wfprotocol import text_payload
from seats.models import Seat
from sessions_app.console import search, selectors
from sessions_app.flow.im_history import customer_history_text
from sessions_app.flow.servicer import servicer_reply
from sessions_app.flow.supervisor import session_supervisor_reassign, session_supervisor_whisper
from sessions_app.models import Message, ServiceSession
from sessions_app.reports.figures import seat_segments
from tests.factories import assignment_at, message_make, reply_at, session_make, session_served
from tests.support.consoles import console_connect, next_frame


def _client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.django_db
def test_a_whisper_is_kept_as_internal_and_never_enters_the_outbox(supervisor: User, servicer_seat: Seat) -> None:
    session = session_served(servicer_seat, online=True)
    message_make(session, "我的快递三天没动了")
    outbox_before = OutboundMessage.objects.count()

    whisper = session_supervisor_whisper(session_id=session.pk, supervisor=supervisor, text=" 先安抚，再查物流单号 ")

    assert OutboundMessage.objects.count() == outbox_before
    stored = Message.objects.get(pk=whisper.pk)
    assert (stored.direction, stored.author, stored.seat_id) == ("internal", "supervisor", servicer_seat.pk)
    assert stored.payload["searchableContent"] == "先安抚，再查物流单号"
    assert json.loads(stored.payload["extra"])["cs"]["whisper"] == {"name": "sup", "user_id": supervisor.pk}
    session.refresh_from_db()
    assert session.last_seq == stored.seq == 2


@pytest.mark.django_db
def test_a_whisper_never_shows_in_the_customers_history(supervisor: User, servicer_seat: Seat) -> None:
    session = session_served(servicer_seat, online=True)
    message_make(session, "发票抬头写错了")
    session_supervisor_whisper(session_id=session.pk, supervisor=supervisor, text="悄悄话：可以重开发票")

    history = _client_for(servicer_seat.user).get(f"/api/customers/{session.customer_id}/history/").json()
    texts = [row["payload"]["searchableContent"] for row in history["results"][0]["messages"]]
    assert texts == ["发票抬头写错了"]
    im_history = customer_history_text(customer=session.customer)
    assert "发票抬头写错了" in im_history
    assert "悄悄话" not in im_history
    assert search.console_search(seat=servicer_seat, query="悄悄话")["messages"] == []


@pytest.mark.django_db
def test_only_the_seat_it_was_whispered_to_reads_it_again(
    supervisor: User, servicer_seat: Seat, other_servicer_seat: Seat
) -> None:
    session = session_served(servicer_seat, online=True)
    Seat.objects.filter(pk=other_servicer_seat.pk).update(status=Seat.Status.ONLINE)
    session_supervisor_whisper(session_id=session.pk, supervisor=supervisor, text="注意语气")
    assert [
        m.direction
        for m in selectors.messages_after(session_id=session.pk, after_seq=0, limit=10, seat_id=servicer_seat.pk)
    ] == ["internal"]

    session_supervisor_reassign(session_id=session.pk, to_seat_id=other_servicer_seat.pk)
    seen_by_bob = selectors.messages_after(session_id=session.pk, after_seq=0, limit=10, seat_id=other_servicer_seat.pk)
    assert "internal" not in [m.direction for m in seen_by_bob]
    assert seen_by_bob  # the transfer's notices to the customer are there
    answer = _client_for(other_servicer_seat.user).get(f"/api/sessions/{session.pk}/messages/").json()
    assert "internal" not in [row["direction"] for row in answer["messages"]]
    # Nor in the handover notice to Bob's IM app, which lists the chat so far.
    to_bob = OutboundMessage.objects.filter(target_user_id="bob")
    handover = [row.payload.get("searchableContent", "") for row in to_bob]
    assert any("转接会话" in text for text in handover), handover
    assert not any("注意语气" in text for text in handover), handover


@pytest.mark.django_db
def test_a_whisper_is_refused_when_empty_too_long_or_not_served(supervisor: User, servicer_seat: Seat) -> None:
    session = session_served(servicer_seat, online=True)
    for text, code in (("   ", "empty_text"), ("长" * 2001, "text_too_long")):
        with pytest.raises(ApplicationError) as refused:
            session_supervisor_whisper(session_id=session.pk, supervisor=supervisor, text=text)
        assert refused.value.code == code
    closed = session_make(seat=servicer_seat, state=ServiceSession.State.CLOSED)
    with pytest.raises(ApplicationError) as ended:
        session_supervisor_whisper(session_id=closed.pk, supervisor=supervisor, text="还在吗")
    assert (ended.value.code, ended.value.status) == ("not_served", 409)
    with pytest.raises(ApplicationError) as missing:
        session_supervisor_whisper(session_id=closed.pk + 999, supervisor=supervisor, text="还在吗")
    assert (missing.value.code, missing.value.status) == ("not_found", 404)
    assert not Message.objects.filter(direction="internal").exists()


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("redis_client")
async def test_a_whisper_reaches_only_the_serving_servicers_console(
    supervisor: User, servicer_seat: Seat, other_servicer_seat: Seat
) -> None:
    session = await sync_to_async(session_served)(servicer_seat, online=True)
    await sync_to_async(session_served)(other_servicer_seat, online=True)
    alice = await console_connect(servicer_seat.user)
    bob = await console_connect(other_servicer_seat.user)

    await sync_to_async(session_supervisor_whisper)(session_id=session.pk, supervisor=supervisor, text="别承诺退款时间")
    frame = await next_frame(alice, "message.new")
    assert (frame["session_id"], frame["direction"], frame["author"]) == (session.pk, "internal", "supervisor")
    assert frame["payload"]["searchableContent"] == "别承诺退款时间"
    # Bob's console hears of his own sessions only: a reply of his arrives, the whisper never did.
    other = await ServiceSession.objects.filter(seat=other_servicer_seat).afirst()
    assert other is not None
    await sync_to_async(servicer_reply)(session_id=other.pk, seat=other_servicer_seat, payload=text_payload("您好"))
    first_for_bob = await next_frame(bob, "message.new")
    assert (first_for_bob["session_id"], first_for_bob["author"]) == (other.pk, "servicer")
    assert await OutboundMessage.objects.filter(payload__searchableContent="别承诺退款时间").aexists() is False
    await alice.disconnect()
    await bob.disconnect()


@pytest.mark.django_db
def test_a_whisper_is_not_the_servicers_first_reply_in_the_reports(supervisor: User, servicer_seat: Seat) -> None:
    session = session_served(servicer_seat, online=True)
    assignment_at(session, servicer_seat, timezone.now() - timedelta(minutes=1))
    session_supervisor_whisper(session_id=session.pk, supervisor=supervisor, text="快回复客户")
    segment = vars(seat_segments(ServiceSession.objects.filter(pk=session.pk)).get())  # annotated columns
    assert (segment["first_reply_at"], segment["first_response"]) == (None, None)
    session.refresh_from_db()
    reply_at(session, servicer_seat, timezone.now())
    replied = vars(seat_segments(ServiceSession.objects.filter(pk=session.pk)).get())
    assert replied["first_reply_at"] is not None
