"""The history and message APIs with a seat's API token (docs/client-protocol.md): a servicer's own
customers only, refused with 401 and a reason once revoked, once the account is deactivated, and
for a wrong or malformed header."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import OperationalError
from django.test import Client, RequestFactory
from django.utils import timezone
from django.views.debug import ExceptionReporter
from rest_framework.request import Request

from seats.api_tokens import api_token_issue
from seats.authentication import SeatTokenAuthentication
from seats.models import ApiToken, Seat
from sessions_app.models import ServiceSession
from tests.factories import customer_make, message_make, session_make

pytestmark = pytest.mark.django_db


def _get(path: str, authorization: str | None, **headers: str) -> tuple[int, Any, str]:
    if authorization is not None:
        headers["authorization"] = authorization
    response = Client().get(path, headers=headers)
    return response.status_code, response.json(), response.headers.get("WWW-Authenticate", "")


def _history(customer_id: int) -> str:
    return f"/api/customers/{customer_id}/history/"


def _messages(session_id: int) -> str:
    return f"/api/sessions/{session_id}/messages/"


@pytest.fixture
def served(servicer_seat: Seat) -> ServiceSession:
    """A customer Alice serves now, who came once before."""
    customer = customer_make()
    earlier = session_make(customer=customer, seat=servicer_seat, state=ServiceSession.State.CLOSED)
    message_make(earlier, "上次的问题")
    session = session_make(customer=customer, seat=servicer_seat)
    message_make(session, "这次的问题")
    return session


@pytest.fixture
def key(servicer_seat: Seat) -> str:
    return api_token_issue(seat=servicer_seat, name="client").key


def test_a_token_reads_its_servicers_customer_history_and_messages(served: ServiceSession, key: str) -> None:
    status, body, _ = _get(_history(served.customer_id), f"Token {key}")
    assert status == 200
    assert body["count"] == 2
    assert body["results"][0]["messages"][0]["payload"]["searchableContent"] == "这次的问题"
    status, body, _ = _get(_messages(served.pk), f"Bearer {key}")
    assert status == 200
    assert [m["payload"]["searchableContent"] for m in body["messages"]] == ["这次的问题"]
    status, body, _ = _get("/api/console/sessions/", f"Token {key}")
    assert (status, [row["id"] for row in body]) == (200, [served.pk])


def test_a_token_notes_when_it_was_last_used(served: ServiceSession, key: str) -> None:
    def last_used() -> datetime | None:
        return ApiToken.objects.get().last_used_at

    assert last_used() is None
    _get(_history(served.customer_id), f"Token {key}")
    first = last_used()
    assert first is not None
    _get(_history(served.customer_id), f"Token {key}")
    assert last_used() == first, "written at most once a minute"
    ApiToken.objects.update(last_used_at=first - timedelta(minutes=5))
    _get(_history(served.customer_id), f"Token {key}")
    later = last_used()
    assert later is not None
    assert later >= first


def test_a_revoked_token_is_refused_at_once(served: ServiceSession, key: str) -> None:
    assert _get(_history(served.customer_id), f"Token {key}")[0] == 200
    ApiToken.objects.update(revoked_at=timezone.now())
    status, body, challenge = _get(_history(served.customer_id), f"Token {key}")
    assert (status, body) == (401, {"detail": "该 API 令牌已被吊销。"})
    assert challenge.startswith("Token")
    assert _get(_messages(served.pk), f"Token {key}", accept_language="en")[1] == {
        "detail": "This API token has been revoked."
    }


def test_a_token_of_a_deactivated_account_is_refused(served: ServiceSession, key: str, servicer_seat: Seat) -> None:
    User.objects.filter(pk=servicer_seat.user_id).update(is_active=False)
    status, body, _ = _get(_history(served.customer_id), f"Token {key}", accept_language="en")
    assert (status, body) == (401, {"detail": "The account of this API token's seat is deactivated."})
    User.objects.filter(pk=servicer_seat.user_id).update(is_active=True)
    assert _get(_history(served.customer_id), f"Token {key}")[0] == 200, "reactivated, the token works again"


def test_a_token_reads_nothing_of_another_servicers_customers(
    served: ServiceSession, other_servicer_seat: Seat
) -> None:
    other_key = api_token_issue(seat=other_servicer_seat).key
    assert _get(_history(served.customer_id), f"Token {other_key}")[0] == 404
    assert _get(_messages(served.pk), f"Token {other_key}")[0] == 404
    assert _get("/api/console/sessions/", f"Token {other_key}")[1] == []


def test_a_token_has_no_supervisor_rights_even_when_its_servicer_has_them(
    served: ServiceSession, supervisor: User
) -> None:
    seat = Seat.objects.create(user=supervisor, display_name="Sup")
    browser = Client()
    browser.force_login(supervisor)
    assert browser.get(_history(served.customer_id)).status_code == 200, "the login supervises"
    supervisor_key = api_token_issue(seat=seat).key
    assert _get(_history(served.customer_id), f"Token {supervisor_key}")[0] == 404
    assert _get(_messages(served.pk), f"Token {supervisor_key}")[0] == 404


def test_a_servicer_whose_session_ended_loses_access_with_the_token(
    served: ServiceSession, key: str, servicer_seat: Seat
) -> None:
    ServiceSession.objects.filter(pk=served.pk).update(state=ServiceSession.State.CLOSED, closed_at=timezone.now())
    assert _get(_history(served.customer_id), f"Token {key}")[0] == 404


@pytest.mark.parametrize(
    ("authorization", "detail"),
    [
        ("Token cst_not-a-real-key", "Invalid API token."),
        ("Bearer ", "Malformed Authorization header: use “Token <key>”, one key with no spaces."),
        ("Token", "Malformed Authorization header: use “Token <key>”, one key with no spaces."),
        ("Token two keys", "Malformed Authorization header: use “Token <key>”, one key with no spaces."),
        ("Token " + "k" * 200, "Malformed Authorization header: use “Token <key>”, one key with no spaces."),
        ("Basic YWxpY2U6cHc=", "Unsupported Authorization header: use “Token <key>”."),
        ("Token caf\u00e9", "Malformed API token."),
    ],
)
def test_a_wrong_or_malformed_header_is_refused_with_its_reason(
    served: ServiceSession, authorization: str, detail: str
) -> None:
    status, body, challenge = _get(_history(served.customer_id), authorization, accept_language="en")
    assert (status, body) == (401, {"detail": detail})
    assert challenge == 'Token realm="api"'


def test_no_credentials_at_all_is_401_with_the_token_challenge(served: ServiceSession) -> None:
    status, body, challenge = _get(_history(served.customer_id), None, accept_language="en")
    assert (status, body) == (401, {"detail": "Authentication credentials were not provided."})
    assert challenge == 'Token realm="api"'


def test_the_browser_login_still_works_beside_the_token(served: ServiceSession, servicer_seat: Seat) -> None:
    browser = Client()
    browser.force_login(servicer_seat.user)
    assert browser.get(_history(served.customer_id)).status_code == 200
    assert browser.get(_messages(served.pk)).status_code == 200


def test_a_key_never_reaches_an_error_page(monkeypatch: pytest.MonkeyPatch, served: ServiceSession, key: str) -> None:
    """A failure while checking a key (here: the database lookup fails) shows frames' variables on
    the 500 page, in the demo too (cs_project.error_pages): the key is cleansed from all of them."""

    def lookup_fails(*args: object, **kwargs: object) -> None:
        raise OperationalError("the database went away")

    monkeypatch.setattr(ApiToken.objects, "select_related", lookup_fails)
    request = RequestFactory().get(_history(served.customer_id), headers={"authorization": f"Token {key}"})
    with pytest.raises(OperationalError) as failure:
        SeatTokenAuthentication().authenticate(Request(request))
    report = ExceptionReporter(request, failure.type, failure.value, failure.tb).get_traceback_html()
    assert "api_token_check" in report, "the frames and their variables are on the page"
    assert "<td>parts</td>" in report
    ours = report[report.index("seats/authentication.py</code>") :]  # the frames past this test's own
    assert key[4:] not in ours
