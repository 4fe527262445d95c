"""The live view's monitor, whisper and take-over endpoints: supervisors only, JSON in and out,
CSRF, refusals as 4xx JSON with a code."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from seats.models import Seat
from seats.presence import presence_connected, presence_disconnected
from seats.services import seat_create_with_user, supervisor_create
from sessions_app.models import Message, ServiceSession
from tests.factories import message_make, session_served

pytestmark = pytest.mark.django_db


def _post(client: Client, url: str, body: object) -> Any:
    return client.post(url, json.dumps(body), content_type="application/json")


def _logged_in(user: User, *, csrf_checks: bool = False) -> Client:
    client = Client(enforce_csrf_checks=csrf_checks)
    client.force_login(user)
    return client


def _urls(session_id: int) -> dict[str, str]:
    names = ("monitor", "whisper", "take-over")
    return {name: reverse(f"supervision:live-{name}", args=[session_id]) for name in names}


def test_a_supervisor_whispers_and_reads_the_chat_with_the_whisper(supervisor: User, servicer_seat: Seat) -> None:
    session = session_served(servicer_seat, online=True)
    message_make(session, "东西坏了")
    client = _logged_in(supervisor)
    urls = _urls(session.pk)

    answer = _post(client, urls["whisper"], {"text": "先道歉"})
    # No console open: the supervisor is told the servicer sees it when they open one.
    assert (answer.status_code, answer.json()) == (200, {"ok": True, "seq": 2, "console_open": False})

    read = client.get(urls["monitor"]).json()
    assert read["session"] | {"state_label": ""} == {
        "id": session.pk,
        "state": "human",
        "state_label": "",
        "customer_name": str(session.customer),
        "seat_id": servicer_seat.pk,
        "seat_name": "Alice",
        "last_seq": 2,
    }
    assert [(m["seq"], m["direction"]) for m in read["messages"]] == [(1, "in"), (2, "internal")]
    assert (read["more"], read["yours"]) == (False, False)
    after = client.get(urls["monitor"], {"after": 1}).json()
    assert [m["payload"]["searchableContent"] for m in after["messages"]] == ["先道歉"]


@pytest.mark.usefixtures("redis_client")
def test_a_whisper_says_whether_the_servicer_has_a_console_open(supervisor: User, servicer_seat: Seat) -> None:
    session = session_served(servicer_seat, online=True)
    client = _logged_in(supervisor)
    presence_connected(seat_id=servicer_seat.pk, connection="console-1")
    answer = _post(client, _urls(session.pk)["whisper"], {"text": "注意语气"})
    assert answer.json()["console_open"] is True
    presence_disconnected(seat_id=servicer_seat.pk, connection="console-1")
    assert _post(client, _urls(session.pk)["whisper"], {"text": "再注意"}).json()["console_open"] is False


def test_a_supervisor_with_a_seat_takes_over(servicer_seat: Seat) -> None:
    boss = supervisor_create(username="boss", password="boss-password")
    seat = seat_create_with_user(username="boss", password="boss-password", display_name="主管王")
    Seat.objects.filter(pk=seat.pk).update(status=Seat.Status.ONLINE)
    session = session_served(servicer_seat, online=True)
    boss.refresh_from_db()  # its password was set again with the seat: a login needs the new one
    answer = _post(_logged_in(boss), _urls(session.pk)["take-over"], {"note": ""})
    assert (answer.status_code, answer.json()) == (200, {"ok": True, "requeued": 0})
    assert ServiceSession.objects.get(pk=session.pk).seat_id == seat.pk
    assert _logged_in(boss).get(_urls(session.pk)["monitor"]).json()["yours"] is True


def test_servicers_and_visitors_are_refused_everything(servicer_seat: Seat, other_servicer_seat: Seat) -> None:
    session = session_served(servicer_seat, online=True)
    urls = _urls(session.pk)
    for client in (_logged_in(other_servicer_seat.user), _logged_in(servicer_seat.user), Client()):
        assert client.get(urls["monitor"]).status_code == 403
        for name in ("whisper", "take-over"):
            refused = _post(client, urls[name], {"text": "偷看"})
            assert (refused.status_code, refused.json()["code"]) == (403, "forbidden")
    assert not Message.objects.filter(direction="internal").exists()
    assert ServiceSession.objects.get(pk=session.pk).seat_id == servicer_seat.pk


def test_bad_input_is_refused_with_a_reason(supervisor: User, servicer_seat: Seat) -> None:
    session = session_served(servicer_seat, online=True)
    client = _logged_in(supervisor)
    urls = _urls(session.pk)
    cases = [
        (client.post(urls["whisper"], "not json", content_type="application/json"), 400, "invalid_json"),
        (_post(client, urls["whisper"], ["先道歉"]), 400, "invalid_json"),
        (_post(client, urls["whisper"], {"text": ""}), 400, "empty_text"),
        (_post(client, urls["whisper"], {"text": "长" * 2001}), 400, "text_too_long"),
        (_post(client, urls["take-over"], {"note": "长" * 501}), 400, "invalid_input"),
        (_post(client, urls["take-over"], {}), 409, "no_seat"),
        (client.get(urls["whisper"]), 405, "method_not_allowed"),
        (client.post(urls["monitor"]), 405, "method_not_allowed"),
        (client.get(urls["monitor"], {"after": "x"}), 400, "invalid_input"),
        (client.get(_urls(session.pk + 999)["monitor"]), 404, "not_found"),
        (_post(client, _urls(session.pk + 999)["whisper"], {"text": "在吗"}), 404, "not_found"),
    ]
    for response, status, code in cases:
        assert (response.status_code, response.json()["code"]) == (status, code)
    ServiceSession.objects.filter(pk=session.pk).update(state=ServiceSession.State.CLOSED)
    ended = _post(client, urls["whisper"], {"text": "在吗"})
    assert (ended.status_code, ended.json()["code"]) == (409, "not_served")


def test_a_post_without_the_csrf_token_is_refused(supervisor: User, servicer_seat: Seat) -> None:
    session = session_served(servicer_seat, online=True)
    answer = _post(_logged_in(supervisor, csrf_checks=True), _urls(session.pk)["whisper"], {"text": "先道歉"})
    assert answer.status_code == 403
    assert not Message.objects.filter(direction="internal").exists()


def test_the_live_view_offers_monitor_for_each_chat_in_progress(supervisor: User, servicer_seat: Seat) -> None:
    session = session_served(servicer_seat, online=True)
    page = _logged_in(supervisor).get(reverse("supervision:live")).content.decode()
    assert f'class="button cs-monitor-open" data-session="{session.pk}"' in page
    assert 'id="cs-monitor-strings"' in page
