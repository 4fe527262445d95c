"""The servicers' list of left messages and marking one handled, over the REST API."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from seats.models import Seat
from sessions_app.models import Customer, LeftMessage
from tests.factories import customer_make

pytestmark = pytest.mark.django_db

LIST_URL = "/api/left-messages/"


def _handle_url(message_id: int) -> str:
    return f"/api/left-messages/{message_id}/handle/"


def _client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _left(text: str, *, minutes_ago: int, customer: Customer | None = None) -> LeftMessage:
    message = LeftMessage.objects.create(customer=customer or customer_make(), text=text)
    LeftMessage.objects.filter(pk=message.pk).update(created_at=timezone.now() - timedelta(minutes=minutes_ago))
    message.refresh_from_db()
    return message


def test_a_servicer_sees_the_unhandled_messages_oldest_first(servicer_seat: Seat, other_servicer_seat: Seat) -> None:
    customer = Customer.objects.create(
        im_user_id="wx-42", display_name="王女士", avatar_url="https://example.com/a.png"
    )
    newer = _left("明天上午请回电", minutes_ago=5)
    older = _left("发票抬头写错了", minutes_ago=60, customer=customer)
    handled = _left("已经解决了", minutes_ago=90)
    LeftMessage.objects.filter(pk=handled.pk).update(handled_at=timezone.now(), handled_by=other_servicer_seat)

    response = _client_for(servicer_seat.user).get(LIST_URL)

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    assert [row["id"] for row in body["results"]] == [older.pk, newer.pk]
    first = body["results"][0]
    assert first["customer_id"] == customer.pk
    assert (first["customer_name"], first["customer_avatar"], first["customer_im_user_id"]) == (
        "王女士",
        "https://example.com/a.png",
        "wx-42",
    )
    assert first["text"] == "发票抬头写错了"
    assert first["created_at"] is not None
    assert (first["handled_at"], first["handled_by"]) == (None, None)


def test_a_customer_without_a_display_name_is_shown_by_im_id(servicer_seat: Seat) -> None:
    _left("在吗", minutes_ago=1, customer=Customer.objects.create(im_user_id="anon-7"))
    [row] = _client_for(servicer_seat.user).get(LIST_URL).json()["results"]
    assert row["customer_name"] == "anon-7"


def test_the_list_is_paginated(servicer_seat: Seat) -> None:
    for minutes in range(3):
        _left(f"留言{minutes}", minutes_ago=minutes)
    body = _client_for(servicer_seat.user).get(LIST_URL, {"page_size": 2}).json()
    assert (body["count"], len(body["results"])) == (3, 2)
    assert body["next"] is not None


def test_marking_one_handled_records_the_servicer_and_it_disappears(
    servicer_seat: Seat, other_servicer_seat: Seat
) -> None:
    message = _left("请尽快联系我", minutes_ago=10)
    other = _left("另一条", minutes_ago=5)
    alice = _client_for(servicer_seat.user)

    response = alice.post(_handle_url(message.pk))

    assert response.status_code == 200
    assert response.json()["handled_by"] == "Alice"
    assert response.json()["handled_at"] is not None
    message.refresh_from_db()
    assert message.handled_by_id == servicer_seat.pk
    assert message.handled_at is not None
    assert [row["id"] for row in alice.get(LIST_URL).json()["results"]] == [other.pk]
    assert [row["id"] for row in _client_for(other_servicer_seat.user).get(LIST_URL).json()["results"]] == [other.pk]


def test_another_servicer_cannot_mark_it_again(servicer_seat: Seat, other_servicer_seat: Seat) -> None:
    message = _left("请尽快联系我", minutes_ago=10)
    assert _client_for(servicer_seat.user).post(_handle_url(message.pk)).status_code == 200

    response = _client_for(other_servicer_seat.user).post(_handle_url(message.pk))

    assert response.status_code == 409
    assert response.json()["code"] == "already_handled"
    message.refresh_from_db()
    assert message.handled_by_id == servicer_seat.pk, "the first servicer keeps the mark"


def test_an_unknown_message_is_404(servicer_seat: Seat) -> None:
    response = _client_for(servicer_seat.user).post(_handle_url(999_999))
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_a_user_without_a_seat_is_refused(supervisor: User) -> None:
    message = _left("请回电", minutes_ago=1)
    client = _client_for(supervisor)
    for response in (client.get(LIST_URL), client.post(_handle_url(message.pk))):
        assert response.status_code == 403
        assert response.json()["code"] == "no_seat"
    message.refresh_from_db()
    assert message.handled_at is None


def test_anonymous_users_are_refused() -> None:
    message = _left("请回电", minutes_ago=1)
    for response in (Client().get(LIST_URL), Client().post(_handle_url(message.pk))):
        assert response.status_code == 403
        assert "detail" in response.json()
    message.refresh_from_db()
    assert message.handled_at is None


def test_both_operations_are_in_the_openapi_schema(supervisor: User) -> None:
    schema = _client_for(supervisor).get("/api/schema/", headers={"accept": "application/json"})
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    listing = paths["/api/left-messages/"]["get"]
    assert listing["operationId"] == "left_message_list"
    assert {parameter["name"] for parameter in listing["parameters"]} >= {"page", "page_size"}
    assert "PaginatedLeftMessageOutputList" in str(listing["responses"]["200"])
    assert paths["/api/left-messages/{message_id}/handle/"]["post"]["operationId"] == "left_message_handle"
