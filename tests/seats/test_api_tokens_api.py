"""A servicer's API tokens from the console: issued (the key shown once, only its SHA-256 kept),
listed, revoked; only with a browser login and its CSRF token, only one's own."""

from __future__ import annotations

import hashlib

import pytest
from django.contrib.auth.models import User
from django.test import Client

from seats.api_tokens import MAX_ACTIVE_TOKENS, api_token_issue
from seats.models import ApiToken, Seat

pytestmark = pytest.mark.django_db

LIST, CREATE = "/api/tokens/", "/api/tokens/create/"


def _revoke_url(token_id: int) -> str:
    return f"/api/tokens/{token_id}/revoke/"


def _client_for(user: User, *, csrf_checks: bool = False) -> Client:
    client = Client(enforce_csrf_checks=csrf_checks)
    client.force_login(user)
    return client


def test_issuing_shows_the_key_once_and_keeps_only_its_hash(servicer_seat: Seat) -> None:
    client = _client_for(servicer_seat.user)
    response = client.post(CREATE, {"name": "桌面客户端"}, content_type="application/json")
    assert response.status_code == 201
    assert response.headers["Cache-Control"] == "no-store"
    body = response.json()
    key = body["key"]
    assert key.startswith("cst_")
    assert len(key) == 47
    token = ApiToken.objects.get(pk=body["id"])
    assert token.digest == hashlib.sha256(key.encode()).hexdigest()
    assert token.prefix == key[:12] == body["prefix"]
    assert (token.name, token.seat) == ("桌面客户端", servicer_seat)
    stored = [str(value) for value in ApiToken.objects.filter(pk=token.pk).values().get().values()]
    assert not any(key in value or key[12:] in value for value in stored), "the key itself is nowhere in the row"
    listed = client.get(LIST).json()
    assert [row["id"] for row in listed] == [token.pk]
    assert "key" not in listed[0], "never shown again"
    assert listed[0]["last_used_at"] is None


def test_a_token_is_revoked_by_its_servicer_and_leaves_the_list(servicer_seat: Seat) -> None:
    issued = api_token_issue(seat=servicer_seat, name="old")
    kept = api_token_issue(seat=servicer_seat, name="new")
    client = _client_for(servicer_seat.user)
    assert client.post(_revoke_url(issued.token.pk)).status_code == 204
    issued.token.refresh_from_db()
    assert issued.token.revoked_at is not None
    assert [row["id"] for row in client.get(LIST).json()] == [kept.token.pk]
    again = client.post(_revoke_url(issued.token.pk))
    assert (again.status_code, again.json()["code"]) == (404, "not_found")


def test_another_servicer_can_neither_see_nor_revoke_a_token(servicer_seat: Seat, other_servicer_seat: Seat) -> None:
    issued = api_token_issue(seat=servicer_seat)
    client = _client_for(other_servicer_seat.user)
    assert client.get(LIST).json() == []
    assert client.post(_revoke_url(issued.token.pk)).status_code == 404
    issued.token.refresh_from_db()
    assert issued.token.revoked_at is None


def test_issuing_and_revoking_need_the_csrf_token(servicer_seat: Seat) -> None:
    issued = api_token_issue(seat=servicer_seat)
    client = _client_for(servicer_seat.user, csrf_checks=True)
    assert client.post(CREATE, {}, content_type="application/json").status_code == 403
    assert client.post(_revoke_url(issued.token.pk)).status_code == 403
    assert ApiToken.objects.filter(revoked_at__isnull=True).count() == 1


def test_a_token_cannot_issue_tokens(servicer_seat: Seat) -> None:
    issued = api_token_issue(seat=servicer_seat)
    response = Client().post(
        CREATE, {}, content_type="application/json", headers={"authorization": f"Token {issued.key}"}
    )
    assert response.status_code == 403
    assert ApiToken.objects.count() == 1


def test_users_without_a_seat_get_no_tokens(supervisor: User) -> None:
    response = _client_for(supervisor).post(CREATE, {}, content_type="application/json")
    assert (response.status_code, response.json()["code"]) == (403, "no_seat")


def test_a_servicer_holds_a_bounded_number_of_tokens(servicer_seat: Seat) -> None:
    for _ in range(MAX_ACTIVE_TOKENS):
        api_token_issue(seat=servicer_seat)
    client = _client_for(servicer_seat.user)
    refused = client.post(CREATE, {}, content_type="application/json", headers={"accept-language": "zh-hans"})
    assert (refused.status_code, refused.json()["code"]) == (409, "too_many_tokens")
    assert "请先吊销" in refused.json()["error"]
    client.post(_revoke_url(ApiToken.objects.filter(seat=servicer_seat).first().pk))  # type: ignore[union-attr]
    assert client.post(CREATE, {}, content_type="application/json").status_code == 201


def test_a_name_longer_than_64_characters_is_refused(servicer_seat: Seat) -> None:
    response = _client_for(servicer_seat.user).post(CREATE, {"name": "x" * 65}, content_type="application/json")
    assert response.status_code == 400
    assert set(response.json()) == {"name"}
