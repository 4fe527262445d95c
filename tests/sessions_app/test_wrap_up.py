"""A chat's wrap-up (tags and a summary): given when the servicer ends it, required or optional by a
setting, and writable afterwards for a chat that ended while it was theirs."""

from __future__ import annotations

from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.contrib.auth.models import User
from django.test import Client

from seats.models import Seat
from sessions_app.models import ServiceSession, ServiceSettings, SessionWrapUp, Tag
from tests.factories import session_make, session_served
from tests.support.consoles import console_connect, next_frame

pytestmark = pytest.mark.django_db


def _client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _require_wrap_up() -> None:
    row = ServiceSettings.load()
    row.wrap_up_required = True
    row.save()


def _end(client: Client, session: ServiceSession, *, language: str = "zh-hans", **body: object) -> Any:
    return client.post(
        f"/api/sessions/{session.pk}/end/", body, content_type="application/json", headers={"accept-language": language}
    )


def _state(session: ServiceSession) -> str:
    return ServiceSession.objects.get(pk=session.pk).state


def test_ending_with_a_wrap_up_keeps_its_tags_and_summary(servicer_seat: Seat) -> None:
    Tag.objects.create(name="退款")
    session = session_served(servicer_seat)
    response = _end(_client_for(servicer_seat.user), session, tags=["退款", "物流 慢"], summary=" 已原路退款 ")
    assert response.status_code == 204
    closed = ServiceSession.objects.get(pk=session.pk)
    assert (closed.state, closed.close_reason) == (ServiceSession.State.CLOSED, ServiceSession.CloseReason.SERVICER_END)
    wrap_up = SessionWrapUp.objects.get(session=session)
    assert (wrap_up.summary, wrap_up.seat) == ("已原路退款", servicer_seat)
    assert sorted(wrap_up.tags.values_list("name", flat=True)) == ["物流 慢", "退款"]
    assert Tag.objects.count() == 2, "an existing tag is reused"
    assert Seat.objects.get(pk=servicer_seat.pk).active_sessions == 0


def test_the_wrap_up_can_be_skipped_when_it_is_optional(servicer_seat: Seat) -> None:
    session = session_served(servicer_seat)
    assert _end(_client_for(servicer_seat.user), session).status_code == 204
    assert _state(session) == ServiceSession.State.CLOSED
    assert not SessionWrapUp.objects.exists()


def test_a_required_wrap_up_is_enforced_with_a_translated_error(servicer_seat: Seat) -> None:
    _require_wrap_up()
    session = session_served(servicer_seat)
    client = _client_for(servicer_seat.user)
    chinese = _end(client, session, tags=["  "], summary="   ")
    assert chinese.status_code == 400
    assert chinese.json() == {
        "code": "wrap_up_required",
        "error": "需要填写小结：至少添加一个标签或写一句总结才能结束会话。",
    }
    english = _end(client, session, language="en")
    assert english.json()["error"] == ("A wrap-up is required: give at least one tag or a summary to end the chat.")
    assert _state(session) == ServiceSession.State.HUMAN
    assert _end(client, session, tags=["咨询"]).status_code == 204
    assert _state(session) == ServiceSession.State.CLOSED


def test_a_wrap_up_written_before_ending_counts(servicer_seat: Seat) -> None:
    _require_wrap_up()
    session = session_served(servicer_seat)
    client = _client_for(servicer_seat.user)
    written = client.post(
        f"/api/sessions/{session.pk}/wrap-up/", {"summary": "客户要求开发票"}, content_type="application/json"
    )
    assert written.status_code == 200
    assert written.json()["summary"] == "客户要求开发票"
    assert _end(client, session).status_code == 204


@pytest.mark.django_db(transaction=True)
async def test_the_consoles_end_action_is_refused_too_without_a_wrap_up(servicer_seat: Seat) -> None:
    await sync_to_async(_require_wrap_up)()
    session = await sync_to_async(session_served)(servicer_seat)
    alice = await console_connect(servicer_seat.user)
    await alice.send_json_to({"action": "end", "request_id": "end-1", "session_id": session.pk})
    refusal = await next_frame(alice, "error")
    assert (refusal["code"], refusal["request_id"]) == ("wrap_up_required", "end-1")
    assert (await ServiceSession.objects.aget(pk=session.pk)).state == ServiceSession.State.HUMAN
    await alice.disconnect()


def test_a_chat_the_customer_ended_can_be_wrapped_up_by_its_servicer_only(
    servicer_seat: Seat, other_servicer_seat: Seat
) -> None:
    session = session_make(seat=servicer_seat, state=ServiceSession.State.CLOSED)
    url = f"/api/sessions/{session.pk}/wrap-up/"
    bob = _client_for(other_servicer_seat.user).post(url, {"summary": "x"}, content_type="application/json")
    assert (bob.status_code, bob.json()["code"]) == (403, "not_owner")
    alice = _client_for(servicer_seat.user)
    empty = alice.post(url, {"tags": [], "summary": ""}, content_type="application/json")
    assert (empty.status_code, empty.json()["code"]) == (400, "wrap_up_empty")
    first = alice.post(url, {"tags": ["投诉"], "summary": "客户中途离开"}, content_type="application/json")
    assert first.json()["tags"] == ["投诉"]
    again = alice.post(url, {"tags": ["咨询"], "summary": "已回电"}, content_type="application/json")
    assert (again.json()["tags"], again.json()["summary"], again.json()["seat"]) == (["咨询"], "已回电", "Alice")
    assert SessionWrapUp.objects.count() == 1
    assert (
        alice.post("/api/sessions/999999/wrap-up/", {"summary": "x"}, content_type="application/json").status_code
        == 404
    )


def test_another_servicer_cannot_end_the_session(servicer_seat: Seat, other_servicer_seat: Seat) -> None:
    session = session_served(servicer_seat)
    response = _end(_client_for(other_servicer_seat.user), session, summary="我来结束")
    assert (response.status_code, response.json()["code"]) == (403, "not_owner")
    assert _state(session) == ServiceSession.State.HUMAN
    assert not SessionWrapUp.objects.exists()


def test_a_wrap_up_with_too_many_tags_or_too_long_a_summary_is_refused(servicer_seat: Seat) -> None:
    session = session_served(servicer_seat)
    client = _client_for(servicer_seat.user)
    assert _end(client, session, tags=[f"t{n}" for n in range(11)]).status_code == 400
    assert _end(client, session, summary="字" * 1001).status_code == 400
    assert _end(client, session, tags=["标" * 33]).status_code == 400
    assert _state(session) == ServiceSession.State.HUMAN
    assert not Tag.objects.exists()
