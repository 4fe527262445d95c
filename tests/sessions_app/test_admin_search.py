"""Admin → sessions: one search box finds a session by its customer, its number, or any message's text."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.db import connection, transaction
from django.test import Client

from seats.models import Seat
from sessions_app.models import ServiceSession
from sessions_app.supervision import session_search
from sessions_app.supervision.session_search import sessions_search
from tests.factories import customer_make, message_make, session_make

pytestmark = pytest.mark.django_db

CLOSED = ServiceSession.State.CLOSED
SESSIONS = "/admin/sessions_app/servicesession/"


@pytest.fixture
def client(supervisor: User) -> Client:
    client = Client()
    client.force_login(supervisor)
    return client


def _found(client: Client, query: str) -> list[int]:
    response = client.get(SESSIONS, {"q": query})
    assert response.status_code == 200
    return sorted(session.pk for session in response.context["cl"].result_list)


def test_it_finds_sessions_by_any_message_text_once_each(client: Client, servicer_seat: Seat) -> None:
    shipped = session_make(customer=customer_make("wx-ship"), seat=servicer_seat)
    message_make(shipped, "请问什么时候发货？")
    message_make(shipped, "订单 SO20261205001 还没发货", author="servicer")
    other = session_make(customer=customer_make("wx-other"), seat=servicer_seat)
    message_make(other, "我要开发票")
    assert _found(client, "发货") == [shipped.pk]  # two matching messages, one row
    assert _found(client, "so20261205001") == [shipped.pk]  # case-insensitive, inside a longer text
    assert _found(client, "开发票") == [other.pk]
    assert _found(client, "退款") == []


def test_the_same_box_finds_customers_and_session_numbers(client: Client) -> None:
    named = session_make(customer=customer_make("wx-12345"), state=CLOSED)
    numbered = session_make(customer=customer_make("wx-other"), state=CLOSED)
    message_make(numbered, "hello")
    assert _found(client, "wx-123") == [named.pk]
    assert _found(client, f"#{numbered.pk}") == [numbered.pk]
    assert _found(client, "  wx-12345  ") == [named.pk]


def test_a_text_with_like_wildcards_is_matched_literally(client: Client) -> None:
    percent = session_make(state=CLOSED)
    message_make(percent, "打 50% 折")
    message_make(session_make(state=CLOSED), "打 50 折")
    assert _found(client, "50%") == [percent.pk]


def test_a_short_word_is_looked_for_in_the_newest_sessions_only(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(session_search, "SHORT_QUERY_SESSIONS", 2)
    old, recent, newest = session_make(state=CLOSED), session_make(state=CLOSED), session_make(state=CLOSED)
    for session in (old, recent, newest):
        message_make(session, "发货了吗")
    response = client.get(SESSIONS, {"q": "发货"})
    assert sorted(session.pk for session in response.context["cl"].result_list) == [recent.pk, newest.pk]
    assert "一两个字的词只在最新的" in response.content.decode()
    # Three characters or more: the trigram index answers, every session is searched.
    assert _found(client, "发货了") == [old.pk, recent.pk, newest.pk]


def test_the_message_text_is_matched_through_the_trigram_index() -> None:
    message_make(session_make(state=CLOSED), "订单 SO20261205001")
    found = sessions_search(sessions=ServiceSession.objects.all(), query="SO20261205001")
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # a tiny table would be scanned otherwise
        plan = found.sessions.explain()
    assert "message_text_trgm_idx" in plan


def test_a_servicer_cannot_search_the_admin(servicer_seat: Seat) -> None:
    client = Client()
    client.force_login(servicer_seat.user)
    response = client.get(SESSIONS, {"q": "发货"})
    assert response.status_code in (302, 403)
