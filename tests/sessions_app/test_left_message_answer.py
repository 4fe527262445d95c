"""A servicer answering a left message: to the customer through the CS Robot, kept in the transcript."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client

from robots.models import OutboundMessage
from robots.wfprotocol import TEXT_MAX_LENGTH
from seats.models import Seat
from sessions_app.models import LeftMessage, Message, ServiceSession
from tests.factories import session_make

pytestmark = pytest.mark.django_db


def _client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _left(text: str = "发票开错了，请回电") -> LeftMessage:
    session = session_make(state=ServiceSession.State.CLOSED)
    return LeftMessage.objects.create(customer=session.customer, session=session, text=text)


def _url(left: LeftMessage) -> str:
    return f"/api/left-messages/{left.pk}/answer/"


def test_the_answer_reaches_the_customer_and_the_transcript(servicer_seat: Seat) -> None:
    left = _left()

    response = _client_for(servicer_seat.user).post(
        _url(left), {"text": "  已为您重开发票 "}, content_type="application/json"
    )

    assert response.status_code == 200
    body = response.json()
    assert body["left_message"]["handled_by"] == "Alice"
    assert body["answer"]["payload"]["searchableContent"] == "已为您重开发票"
    message = Message.objects.get(session=left.session, author=Message.Author.SERVICER)
    assert (message.seat_id, message.payload["searchableContent"]) == (servicer_seat.pk, "已为您重开发票")
    sent = OutboundMessage.objects.get(reference=message.pk)
    assert sent.sender_kind == OutboundMessage.SenderKind.CS_ROBOT
    assert sent.target_user_id == left.customer.im_user_id
    left.refresh_from_db()
    assert left.handled_by_id == servicer_seat.pk
    assert left.handled_at is not None


def test_the_same_servicer_may_answer_again(servicer_seat: Seat) -> None:
    left = _left()
    client = _client_for(servicer_seat.user)
    assert client.post(_url(left), {"text": "一"}, content_type="application/json").status_code == 200
    assert client.post(_url(left), {"text": "二"}, content_type="application/json").status_code == 200
    assert Message.objects.filter(session=left.session, author=Message.Author.SERVICER).count() == 2


def test_another_servicers_message_is_refused(servicer_seat: Seat, other_servicer_seat: Seat) -> None:
    left = _left()
    assert (
        _client_for(other_servicer_seat.user)
        .post(_url(left), {"text": "好"}, content_type="application/json")
        .status_code
        == 200
    )

    response = _client_for(servicer_seat.user).post(_url(left), {"text": "我也来"}, content_type="application/json")

    assert (response.status_code, response.json()["code"]) == (409, "already_handled")


@pytest.mark.parametrize(
    ("text", "code"), [("", "empty"), ("   ", "empty"), ("字" * (TEXT_MAX_LENGTH + 1), "too_long")]
)
def test_empty_or_too_long_answers_are_400(servicer_seat: Seat, text: str, code: str) -> None:
    left = _left()

    response = _client_for(servicer_seat.user).post(_url(left), {"text": text}, content_type="application/json")

    assert (response.status_code, response.json()["code"]) == (400, code)
    assert not Message.objects.filter(author=Message.Author.SERVICER).exists()
    left.refresh_from_db()
    assert left.handled_at is None


def test_missing_text_and_unknown_message(servicer_seat: Seat, supervisor: User) -> None:
    client = _client_for(servicer_seat.user)
    assert client.post(_url(_left()), {}, content_type="application/json").status_code == 400
    assert (
        client.post("/api/left-messages/999999/answer/", {"text": "x"}, content_type="application/json").status_code
        == 404
    )
    assert (
        _client_for(supervisor).post(_url(_left()), {"text": "x"}, content_type="application/json").status_code == 403
    )
