from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client

from seats.models import Seat
from sessions_app.console.search import SHORT_QUERY_SESSIONS, snippet
from sessions_app.models import ServiceSession
from tests.factories import customer_make, message_make, session_make

pytestmark = pytest.mark.django_db

SEARCH = "/api/console/search/"
ENDED = "/api/console/ended/"


def _client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _search(user: User, query: str) -> Any:
    response = _client_for(user).get(SEARCH, {"q": query})
    assert response.status_code == 200, response.content
    return response.json()


def test_it_finds_a_chinese_substring_in_the_servicers_messages(servicer_seat: Seat) -> None:
    session = session_make(seat=servicer_seat)
    message_make(session, "我的订单号是 A1234，什么时候发货？")
    body = _search(servicer_seat.user, "什么时候")
    [hit] = body["messages"]
    assert (hit["session_id"], hit["seq"], hit["session_state"]) == (session.pk, 1, "human")
    assert "什么时候发货" in hit["text"]
    assert body["scope"] == "all"


def test_it_finds_messages_of_ended_sessions_case_insensitively(servicer_seat: Seat) -> None:
    session = session_make(seat=servicer_seat, state=ServiceSession.State.CLOSED)
    message_make(session, "Where is my Parcel?", author="customer")
    [hit] = _search(servicer_seat.user, "parcel")["messages"]
    assert hit["session_state"] == "closed"


def test_another_servicers_chats_are_never_found(servicer_seat: Seat, other_servicer_seat: Seat) -> None:
    theirs = session_make(seat=other_servicer_seat, customer=customer_make("secret-customer"))
    message_make(theirs, "机密的退款问题")
    ended = session_make(seat=other_servicer_seat, state=ServiceSession.State.CLOSED)
    message_make(ended, "机密的退款问题")
    for query in ("退款问题", "机密", "secret-customer", "顾客"):
        body = _search(servicer_seat.user, query)
        assert body["messages"] == [], query
        assert body["customers"] == [], query


def test_it_finds_the_servicers_customers_by_name_or_im_id(servicer_seat: Seat) -> None:
    old = session_make(seat=servicer_seat, customer=customer_make("wx-li-lei"), state=ServiceSession.State.CLOSED)
    newer = session_make(seat=servicer_seat, customer=old.customer)
    [hit] = _search(servicer_seat.user, "li-lei")["customers"]
    assert (hit["customer_id"], hit["session_id"], hit["customer_name"]) == (old.customer_id, newer.pk, "顾客")


def test_like_wildcards_are_taken_literally(servicer_seat: Seat) -> None:
    session = session_make(seat=servicer_seat)
    message_make(session, "打九折")
    message_make(session, "100% 满意")
    hits = _search(servicer_seat.user, "0% ")["messages"]
    assert [hit["text"] for hit in hits] == ["100% 满意"]
    assert _search(servicer_seat.user, "%%%")["messages"] == []


def test_a_short_query_looks_in_the_most_recent_sessions_only(servicer_seat: Seat) -> None:
    oldest = session_make(seat=servicer_seat, state=ServiceSession.State.CLOSED)
    message_make(oldest, "好的")
    for _ in range(SHORT_QUERY_SESSIONS):
        session_make(seat=servicer_seat, state=ServiceSession.State.CLOSED)
    recent = session_make(seat=servicer_seat)
    message_make(recent, "好的，谢谢")
    body = _search(servicer_seat.user, "好的")
    assert body["scope"] == "recent"
    assert [hit["session_id"] for hit in body["messages"]] == [recent.pk]


def test_bad_queries_get_a_reason(servicer_seat: Seat) -> None:
    client = _client_for(servicer_seat.user)
    assert client.get(SEARCH).status_code == 400
    assert client.get(SEARCH, {"q": "   "}).status_code == 400
    response = client.get(SEARCH, {"q": "x" * 101})
    assert response.status_code == 400
    assert "q" in response.json()


def test_users_without_a_seat_cannot_search(supervisor: User) -> None:
    response = _client_for(supervisor).get(SEARCH, {"q": "订单"})
    assert response.status_code == 403
    assert Client().get(SEARCH, {"q": "订单"}).status_code in (401, 403)


def test_the_snippet_keeps_the_match_of_a_long_message() -> None:
    text = "开头" * 100 + "关键字" + "结尾" * 100
    cut = snippet(text, "关键字")
    assert "关键字" in cut
    assert cut.startswith("…")
    assert cut.endswith("…")
    assert len(cut) < 100


def test_the_search_uses_the_trigram_index() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
        cursor.execute(
            "EXPLAIN SELECT id FROM sessions_app_message WHERE (payload ->> 'searchableContent') ILIKE %s",
            ["%什么时候%"],
        )
        plan = "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute("SET enable_seqscan = on")
    assert "message_text_trgm_idx" in plan


def test_the_ended_list_has_the_servicers_ended_sessions_newest_first(
    servicer_seat: Seat, other_servicer_seat: Seat
) -> None:
    first = session_make(seat=servicer_seat, state=ServiceSession.State.CLOSED)
    second = session_make(seat=servicer_seat, state=ServiceSession.State.CLOSED)
    session_make(seat=servicer_seat)  # in progress: not ended
    session_make(seat=other_servicer_seat, state=ServiceSession.State.CLOSED)
    response = _client_for(servicer_seat.user).get(ENDED)
    assert response.status_code == 200
    assert [row["id"] for row in response.json()] == [second.pk, first.pk]
    assert response.json()[0]["customer_name"] == "顾客"


def test_a_servicer_reads_the_transcript_of_their_ended_session(servicer_seat: Seat) -> None:
    session = session_make(seat=servicer_seat, state=ServiceSession.State.CLOSED)
    message_make(session, "你好")
    message_make(session, "您好，请讲", author="servicer")
    response = _client_for(servicer_seat.user).get(f"/api/console/sessions/{session.pk}/transcript/")
    assert response.status_code == 200
    body = response.json()
    assert body["state"] == "closed"
    assert [m["payload"]["searchableContent"] for m in body["messages"]] == ["你好", "您好，请讲"]


def test_another_servicers_transcript_is_refused(
    servicer_seat: Seat, other_servicer_seat: Seat, supervisor: User
) -> None:
    theirs = session_make(seat=other_servicer_seat, state=ServiceSession.State.CLOSED)
    url = f"/api/console/sessions/{theirs.pk}/transcript/"
    response = _client_for(servicer_seat.user).get(url)
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert _client_for(servicer_seat.user).get("/api/console/sessions/999999/transcript/").status_code == 404
    assert _client_for(supervisor).get(url).status_code == 403


def test_links_and_markup_come_back_as_plain_text(servicer_seat: Seat) -> None:
    """The console makes http(s) links clickable itself (console-render.js), from the plain text."""
    session = session_make(seat=servicer_seat)
    text = '看这里 https://shop.example.com/a?b=1 <img src=x onerror="alert(1)"> javascript:alert(1)'
    message_make(session, text)
    [hit] = _search(servicer_seat.user, "shop.example")["messages"]
    assert hit["text"] == text
    body = _client_for(servicer_seat.user).get(f"/api/console/sessions/{session.pk}/transcript/").json()
    assert body["messages"][0]["payload"]["searchableContent"] == text
