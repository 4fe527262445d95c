"""The live view's controls: POST JSON under /admin/live/, supervisors only, with CSRF."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from seats.models import Seat
from sessions_app.models import ServiceSession
from tests.factories import session_served


def _post(client: Client, url: str, body: object) -> Any:
    return client.post(url, json.dumps(body), content_type="application/json")


@pytest.fixture
def supervisor_client(supervisor: User) -> Client:
    client = Client()
    client.force_login(supervisor)
    return client


@pytest.mark.django_db
def test_a_supervisor_reassigns_to_a_seat_and_to_the_queue(
    supervisor_client: Client, servicer_seat: Seat, other_servicer_seat: Seat
) -> None:
    Seat.objects.filter(pk=other_servicer_seat.pk).update(status=Seat.Status.ONLINE)
    session = session_served(servicer_seat, online=True)
    url = reverse("supervision:live-reassign", args=[session.pk])
    answer = _post(supervisor_client, url, {"seat": other_servicer_seat.pk, "note": "请接手"})
    assert (answer.status_code, answer.json()) == (200, {"ok": True, "requeued": 0})
    assert ServiceSession.objects.get(pk=session.pk).seat_id == other_servicer_seat.pk

    answer = _post(supervisor_client, url, {"seat": None, "note": ""})
    assert answer.status_code == 200
    assert ServiceSession.objects.get(pk=session.pk).state == ServiceSession.State.QUEUED


@pytest.mark.django_db
def test_refusals_come_back_as_json_reasons(
    supervisor_client: Client, servicer_seat: Seat, other_servicer_seat: Seat
) -> None:
    session = session_served(servicer_seat, online=True)
    url = reverse("supervision:live-reassign", args=[session.pk])
    full = _post(supervisor_client, url, {"seat": other_servicer_seat.pk})  # offline
    assert (full.status_code, full.json()["code"]) == (409, "seat_unavailable")
    bad = _post(supervisor_client, url, {"seat": "x"})
    assert (bad.status_code, bad.json()["code"]) == (400, "invalid_input")
    not_object = _post(supervisor_client, url, [1])
    assert (not_object.status_code, not_object.json()["code"]) == (400, "invalid_json")
    missing = _post(supervisor_client, reverse("supervision:live-end", args=[session.pk + 999]), {})
    assert (missing.status_code, missing.json()["code"]) == (404, "not_found")
    get = supervisor_client.get(url)
    assert get.status_code == 405


@pytest.mark.django_db
def test_a_supervisor_ends_with_a_reason_once(supervisor_client: Client, servicer_seat: Seat) -> None:
    session = session_served(servicer_seat, online=True)
    url = reverse("supervision:live-end", args=[session.pk])
    assert _post(supervisor_client, url, {"note": "重复会话"}).status_code == 200
    again = _post(supervisor_client, url, {"note": "重复会话"})
    assert (again.status_code, again.json()["code"]) == (409, "closed")
    session.refresh_from_db()
    assert session.close_reason == ServiceSession.CloseReason.SUPERVISOR_END


@pytest.mark.django_db
def test_a_seat_set_offline_may_send_its_chats_back(supervisor_client: Client, servicer_seat: Seat) -> None:
    session = session_served(servicer_seat, online=True)
    url = reverse("supervision:live-seat-status", args=[servicer_seat.pk])
    answer = _post(supervisor_client, url, {"status": "offline", "requeue": True})
    assert answer.json() == {"ok": True, "requeued": 1}
    assert ServiceSession.objects.get(pk=session.pk).state == ServiceSession.State.QUEUED
    bad = _post(supervisor_client, url, {"status": "asleep"})
    assert (bad.status_code, bad.json()["code"]) == (400, "invalid_input")
    assert bad.json()["error"].startswith("状态: ")  # the field named in the supervisor's language


@pytest.mark.django_db
def test_servicers_and_strangers_are_refused(servicer_seat: Seat) -> None:
    session = session_served(servicer_seat, online=True)
    url = reverse("supervision:live-end", args=[session.pk])
    anonymous = _post(Client(), url, {})
    assert (anonymous.status_code, anonymous.json()["code"]) == (403, "forbidden")
    servicer = Client()
    servicer.force_login(servicer_seat.user)
    assert _post(servicer, url, {}).status_code == 403
    assert ServiceSession.objects.get(pk=session.pk).state == ServiceSession.State.HUMAN


@pytest.mark.django_db
def test_it_needs_the_csrf_token(supervisor: User, servicer_seat: Seat) -> None:
    session = session_served(servicer_seat, online=True)
    client = Client(enforce_csrf_checks=True)
    client.force_login(supervisor)
    answer = _post(client, reverse("supervision:live-end", args=[session.pk]), {})
    assert answer.status_code == 403
    assert ServiceSession.objects.get(pk=session.pk).state == ServiceSession.State.HUMAN
