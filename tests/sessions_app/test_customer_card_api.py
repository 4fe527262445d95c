"""The console's customer card: the customer's profile, tags and notes, shared by every servicer who
serves or served them, and refused to the others."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from seats.models import Seat
from seats.services import seat_create_with_user
from sessions_app.models import Customer, CustomerNote, ServiceSession, SessionEvent, Tag
from tests.factories import customer_make, session_make

pytestmark = pytest.mark.django_db


def _client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _card(client: Client, customer: Customer) -> dict[str, Any]:
    response = client.get(f"/api/customers/{customer.pk}/card/")
    assert response.status_code == 200, response.content
    body: dict[str, Any] = response.json()
    return body


def _add_note(client: Client, customer: Customer, text: str) -> dict[str, Any]:
    response = client.post(f"/api/customers/{customer.pk}/notes/create/", {"text": text})
    assert response.status_code == 201, response.content
    body: dict[str, Any] = response.json()
    return body


@pytest.fixture
def customer(servicer_seat: Seat) -> Customer:
    """A customer Alice serves now."""
    customer = customer_make("dkqwq4c5og")
    session_make(customer=customer, seat=servicer_seat)
    return customer


def test_the_card_shows_the_name_the_im_id_and_notes_newest_first(servicer_seat: Seat, customer: Customer) -> None:
    client = _client_for(servicer_seat.user)
    _add_note(client, customer, "老客户，上次退过货")
    _add_note(client, customer, "  喜欢电话联系  ")
    card = _card(client, customer)
    assert (card["name"], card["im_user_id"]) == ("顾客", "dkqwq4c5og")
    notes = card["notes"]
    assert [note["text"] for note in notes] == ["喜欢电话联系", "老客户，上次退过货"]
    assert all(note["author"] == "Alice" and note["mine"] for note in notes)


def test_notes_are_shared_with_every_servicer_and_kept_across_chats(
    servicer_seat: Seat, other_servicer_seat: Seat, customer: Customer
) -> None:
    _add_note(_client_for(servicer_seat.user), customer, "VIP，优先处理")
    ServiceSession.objects.filter(customer=customer).update(state=ServiceSession.State.CLOSED)
    session_make(customer=customer, seat=other_servicer_seat)  # the next chat, with Bob
    [note] = _card(_client_for(other_servicer_seat.user), customer)["notes"]
    assert (note["text"], note["author"], note["mine"]) == ("VIP，优先处理", "Alice", False)


def test_the_author_edits_and_deletes_their_note(servicer_seat: Seat, customer: Customer) -> None:
    client = _client_for(servicer_seat.user)
    note = _add_note(client, customer, "初稿")
    assert note["edited_at"] is None
    updated = client.post(f"/api/customer-notes/{note['id']}/update/", {"text": "改过的"})
    assert updated.status_code == 200
    assert updated.json()["text"] == "改过的"
    assert updated.json()["edited_at"] is not None
    assert CustomerNote.objects.get(pk=note["id"]).text == "改过的"
    assert client.post(f"/api/customer-notes/{note['id']}/delete/").status_code == 204
    assert not CustomerNote.objects.exists()


def test_another_servicers_note_cannot_be_changed(
    servicer_seat: Seat, other_servicer_seat: Seat, customer: Customer
) -> None:
    note = _add_note(_client_for(servicer_seat.user), customer, "Alice 写的")
    ServiceSession.objects.filter(customer=customer).update(seat=other_servicer_seat)  # Bob serves them now
    bob = _client_for(other_servicer_seat.user)
    changed = bob.post(
        f"/api/customer-notes/{note['id']}/update/", {"text": "Bob 改的"}, headers={"accept-language": "en"}
    )
    assert (changed.status_code, changed.json()["code"]) == (403, "not_author")
    assert changed.json()["error"] == "Only the note's author can change it."
    deleted = bob.post(f"/api/customer-notes/{note['id']}/delete/", headers={"accept-language": "zh-hans"})
    assert (deleted.status_code, deleted.json()["error"]) == (403, "只有备注的作者可以修改它。")
    assert CustomerNote.objects.get(pk=note["id"]).text == "Alice 写的"


def test_a_servicer_who_never_served_the_customer_is_refused(other_servicer_seat: Seat, customer: Customer) -> None:
    bob = _client_for(other_servicer_seat.user)
    assert bob.get(f"/api/customers/{customer.pk}/card/").status_code == 404
    assert bob.post(f"/api/customers/{customer.pk}/notes/create/", {"text": "x"}).status_code == 404
    assert bob.post(f"/api/customers/{customer.pk}/tags/add/", {"name": "x"}).status_code == 404
    assert bob.post(f"/api/customers/{customer.pk}/tags/remove/", {"name": "x"}).status_code == 404
    assert not CustomerNote.objects.exists()
    assert not Tag.objects.exists()


def test_a_servicer_keeps_access_to_customers_they_served_before(
    servicer_seat: Seat, other_servicer_seat: Seat
) -> None:
    """Past chats count: one that ended, and one they handed to a colleague (the timeline keeps it)."""
    ended = customer_make()
    session_make(customer=ended, seat=servicer_seat, state=ServiceSession.State.CLOSED)
    transferred = customer_make()
    session = session_make(customer=transferred, seat=other_servicer_seat)
    SessionEvent.objects.create(session=session, kind=SessionEvent.Kind.ASSIGNED, seat=servicer_seat)
    client = _client_for(servicer_seat.user)
    assert _card(client, ended)["notes"] == []
    _add_note(client, transferred, "转给 Bob 之前记下的")


def test_supervisors_read_every_card_and_write_only_with_a_seat(supervisor: User, customer: Customer) -> None:
    client = _client_for(supervisor)
    assert _card(client, customer)["name"] == "顾客"
    refused = client.post(f"/api/customers/{customer.pk}/notes/create/", {"text": "x"})
    assert (refused.status_code, refused.json()["code"]) == (403, "no_seat")


def test_anonymous_users_are_refused(customer: Customer) -> None:
    assert Client().get(f"/api/customers/{customer.pk}/card/").status_code == 403
    assert Client().post(f"/api/customers/{customer.pk}/notes/create/", {"text": "x"}).status_code == 403


def test_an_empty_or_too_long_note_is_refused(servicer_seat: Seat, customer: Customer) -> None:
    client = _client_for(servicer_seat.user)
    blank = client.post(
        f"/api/customers/{customer.pk}/notes/create/", {"text": "   "}, headers={"accept-language": "zh-hans"}
    )
    assert blank.status_code == 400
    assert blank.json()["text"] == ["该字段不能为空。"]
    too_long = client.post(f"/api/customers/{customer.pk}/notes/create/", {"text": "字" * 2001})
    assert too_long.status_code == 400
    assert not CustomerNote.objects.exists()


def test_tags_are_added_and_removed_whatever_their_case(
    servicer_seat: Seat, other_servicer_seat: Seat, customer: Customer
) -> None:
    client = _client_for(servicer_seat.user)
    assert client.post(f"/api/customers/{customer.pk}/tags/add/", {"name": " VIP "}).json() == {"tags": ["VIP"]}
    assert client.post(f"/api/customers/{customer.pk}/tags/add/", {"name": "vip"}).json() == {"tags": ["VIP"]}
    body = client.post(f"/api/customers/{customer.pk}/tags/add/", {"name": "退款  纠纷"}).json()
    assert body == {"tags": ["VIP", "退款 纠纷"]}
    assert Tag.objects.count() == 2
    assert client.post(f"/api/customers/{customer.pk}/tags/remove/", {"name": "Vip"}).json() == {"tags": ["退款 纠纷"]}
    assert Tag.objects.filter(name="VIP").exists(), "the tag stays for other customers and the autocomplete"
    assert _card(client, customer)["tags"] == ["退款 纠纷"]


def test_a_tag_that_is_too_long_or_blank_is_refused(servicer_seat: Seat, customer: Customer) -> None:
    client = _client_for(servicer_seat.user)
    assert client.post(f"/api/customers/{customer.pk}/tags/add/", {"name": "标" * 33}).status_code == 400
    assert client.post(f"/api/customers/{customer.pk}/tags/add/", {"name": "   "}).status_code == 400
    assert not Tag.objects.exists()


def test_the_autocomplete_offers_tags_in_use_starting_with_the_text_first(servicer_seat: Seat) -> None:
    for name in ("老客户", "VIP", "退款", "大客户", "vip-candidate"):
        Tag.objects.create(name=name)
    busy = customer_make()
    busy.tags.add(*Tag.objects.filter(name__in=["退款", "VIP"]))
    customer_make().tags.add(Tag.objects.get(name="退款"))
    client = _client_for(servicer_seat.user)
    assert client.get("/api/tags/", {"q": "vi"}).json() == ["VIP", "vip-candidate"]
    assert client.get("/api/tags/", {"q": "客户"}).json() == ["大客户", "老客户"]
    assert client.get("/api/tags/").json()[:2] == ["退款", "VIP"]  # the most used first
    assert Client().get("/api/tags/").status_code == 403


def test_a_seat_removed_later_leaves_its_notes_unsigned(customer: Customer) -> None:
    carol = seat_create_with_user(username="carol", password="carol-pw", display_name="Carol")
    session_make(customer=customer, seat=carol, state=ServiceSession.State.CLOSED)
    note = _add_note(_client_for(carol.user), customer, "Carol 的备注")
    ServiceSession.objects.filter(seat=carol).delete()
    carol.delete()
    assert CustomerNote.objects.get(pk=note["id"]).author is None
