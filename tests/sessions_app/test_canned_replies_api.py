from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client

from seats.models import Seat
from sessions_app.models import CannedReply

pytestmark = pytest.mark.django_db

LIST = "/api/canned-replies/"
CREATE = "/api/canned-replies/create/"


def _client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_servicer_sees_the_global_replies_and_their_own(servicer_seat: Seat, other_servicer_seat: Seat) -> None:
    CannedReply.objects.create(shortcut="hi", text="您好，请问有什么可以帮您？")
    CannedReply.objects.create(owner=servicer_seat, shortcut="bye", text="祝您生活愉快")
    CannedReply.objects.create(owner=other_servicer_seat, shortcut="secret", text="Bob 的")
    body = _client_for(servicer_seat.user).get(LIST).json()
    assert [(row["shortcut"], row["personal"]) for row in body] == [("bye", True), ("hi", False)]


def test_a_servicer_creates_updates_and_deletes_their_own(servicer_seat: Seat) -> None:
    client = _client_for(servicer_seat.user)
    created = client.post(CREATE, {"shortcut": "退款", "text": "退款将在 3 个工作日内原路退回。"})
    assert created.status_code == 201
    reply_id = created.json()["id"]
    assert CannedReply.objects.get(pk=reply_id).owner == servicer_seat
    updated = client.post(f"/api/canned-replies/{reply_id}/update/", {"shortcut": "tk", "text": "新的文字"})
    assert updated.json()["shortcut"] == "tk"
    assert client.post(f"/api/canned-replies/{reply_id}/delete/").status_code == 204
    assert not CannedReply.objects.filter(pk=reply_id).exists()


def test_a_duplicate_shortcut_or_a_bad_one_is_refused(servicer_seat: Seat) -> None:
    client = _client_for(servicer_seat.user)
    client.post(CREATE, {"shortcut": "hi", "text": "一"})
    duplicate = client.post(CREATE, {"shortcut": "hi", "text": "二"})
    assert (duplicate.status_code, duplicate.json()["code"]) == (400, "shortcut_taken")
    assert client.post(CREATE, {"shortcut": "has space", "text": "x"}).status_code == 400


def test_global_and_other_servicers_replies_cannot_be_changed(servicer_seat: Seat, other_servicer_seat: Seat) -> None:
    shared = CannedReply.objects.create(shortcut="hi", text="全局")
    bobs = CannedReply.objects.create(owner=other_servicer_seat, shortcut="b", text="Bob 的")
    client = _client_for(servicer_seat.user)
    for reply in (shared, bobs):
        assert client.post(f"/api/canned-replies/{reply.pk}/update/", {"shortcut": "x", "text": "y"}).status_code == 404
        assert client.post(f"/api/canned-replies/{reply.pk}/delete/").status_code == 404
    assert CannedReply.objects.count() == 2
    assert CannedReply.objects.get(pk=shared.pk).text == "全局"


def test_users_without_a_seat_and_anonymous_users_are_refused(supervisor: User) -> None:
    assert _client_for(supervisor).get(LIST).status_code == 403
    assert _client_for(supervisor).post(CREATE, {"shortcut": "a", "text": "b"}).status_code == 403
    assert Client().get(LIST).status_code == 403
    assert Client().post(CREATE, {"shortcut": "a", "text": "b"}).status_code == 403
