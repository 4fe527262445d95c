"""Every kind of page answers with the project's Content-Security-Policy (django-csp).

The browser tests (tests/e2e/*_browser.py) check that the pages work under it, with no violation.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import include, path, re_path

from ratings.models import Rating
from ratings.services import rating_record, rating_token
from seats.models import Seat
from sessions_app.console.views import media_file
from sessions_app.models import ServiceSession
from tests.factories import session_make

# The URLconf of the upload test: the development media view (routed only with DEBUG on) and the project.
urlpatterns = [re_path(r"^media/(?P<path>.+)$", media_file), path("", include("cs_project.urls"))]

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("redis_client")]

POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data: http: https:",
    "connect-src": "'self' ws://testserver",
    "object-src": "'none'",
    "base-uri": "'self'",
    "frame-ancestors": "'none'",
    "form-action": "'self'",
}


def _policy(header: str) -> dict[str, str]:
    directives = (part.strip().partition(" ") for part in header.split(";") if part.strip())
    return {name: value for name, _, value in directives}


def _closed_session(seat: Seat) -> ServiceSession:
    return session_make(seat=seat, state=ServiceSession.State.CLOSED)


def _rated_session(seat: Seat) -> ServiceSession:
    session = _closed_session(seat)
    rating_record(session=session, score=5, comment="", channel=Rating.Channel.FORM)
    return session


Page = tuple[str, str | None, Callable[[Seat], str], int]

PAGES: list[Page] = [
    ("console login", None, lambda seat: "/console/login/", 200),
    ("console", "servicer", lambda seat: "/console/", 200),
    ("console without a seat", "supervisor", lambda seat: "/console/", 403),
    ("admin login", None, lambda seat: "/admin/login/", 200),
    ("admin index", "supervisor", lambda seat: "/admin/", 200),
    ("admin change list", "supervisor", lambda seat: "/admin/seats/seat/", 200),
    ("admin change form", "supervisor", lambda seat: f"/admin/seats/seat/{seat.pk}/change/", 200),
    ("admin settings", "supervisor", lambda seat: "/admin/sessions_app/servicesettings/", 302),
    ("live view", "supervisor", lambda seat: "/admin/live/", 200),
    ("live view panels", "supervisor", lambda seat: "/admin/live/panels/", 200),
    ("reports", "supervisor", lambda seat: "/admin/reports/", 200),
    ("API docs", "supervisor", lambda seat: "/api/docs/", 200),
    ("API docs script", "supervisor", lambda seat: "/api/docs/?script=", 200),
    ("rating form", None, lambda seat: f"/rate/{rating_token(session=_closed_session(seat))}/", 200),
    ("rating already given", None, lambda seat: f"/rate/{rating_token(session=_rated_session(seat))}/", 409),
    ("rating link forged", None, lambda seat: "/rate/forged/", 404),
    ("not found", None, lambda seat: "/no-such-page/", 404),
    ("an API answer", None, lambda seat: "/api/seats/transfer-targets/", 403),
]


@pytest.mark.parametrize(("who", "path", "status"), [page[1:] for page in PAGES], ids=[page[0] for page in PAGES])
def test_every_kind_of_page_answers_with_the_policy(
    request: pytest.FixtureRequest,
    servicer_seat: Seat,
    who: str | None,
    path: Callable[[Seat], str],
    status: int,
) -> None:
    client = Client()
    if who == "servicer":
        client.force_login(servicer_seat.user)
    elif who == "supervisor":
        client.force_login(request.getfixturevalue("supervisor"))
    response = client.get(path(servicer_seat))
    assert response.status_code == status
    assert _policy(response["Content-Security-Policy"]) == POLICY


def test_the_websocket_origin_follows_the_pages_scheme_and_host(settings: Any) -> None:
    settings.ALLOWED_HOSTS = ["cs.example.com"]
    page = Client().get("/console/login/", headers={"host": "cs.example.com"}, secure=True)
    assert _policy(page["Content-Security-Policy"])["connect-src"] == "'self' wss://cs.example.com"


def test_a_refused_host_still_gets_a_policy_without_a_socket_origin() -> None:
    refused = Client().get("/console/login/", headers={"host": "evil.example"})
    assert refused.status_code == 400
    assert _policy(refused["Content-Security-Policy"])["connect-src"] == "'self'"


def test_the_rating_forms_throttled_page_answers_with_the_policy(settings: Any, servicer_seat: Seat) -> None:
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "rating_form": "1/hour"},
    }
    client = Client()
    client.get("/rate/forged/")
    throttled = client.get("/rate/forged/")
    assert throttled.status_code == 429
    assert _policy(throttled["Content-Security-Policy"]) == POLICY


@pytest.mark.urls(__name__)
def test_an_uploaded_file_keeps_its_own_sandbox_policy(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path
    (tmp_path / "invoice.html").write_text("<script>alert(1)</script>")
    response = Client().get("/media/invoice.html")
    assert response.status_code == 200
    assert response["Content-Security-Policy"] == "default-src 'none'; sandbox", "not replaced by the pages' policy"
