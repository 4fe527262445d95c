"""Security properties that cut across apps: login throttling, API docs for staff only and served locally,
no secrets in logs nor on error pages."""

from __future__ import annotations

import logging
from typing import Any

import pytest
import redis
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse
from django.test import AsyncClient, Client
from django.urls import include, path
from django.views.debug import get_default_exception_reporter_filter

from robots.models import Robot
from robots.services import cs_robot_get
from seats.models import Seat
from tests.support.cs_stack import Stack
from tests.support.processes import wait_until
from tests.support.stack import LiveStack


@pytest.mark.django_db
def test_logins_are_locked_out_after_repeated_failures(supervisor: User, redis_client: redis.Redis) -> None:
    client = Client()
    for _ in range(4):
        response = client.post("/admin/login/", {"username": "sup", "password": "wrong"})
        assert response.status_code == 200  # the form again, with an error
    assert client.post("/admin/login/", {"username": "sup", "password": "wrong"}).status_code == 429
    locked = client.post("/admin/login/", {"username": "sup", "password": "sup-password"})
    assert locked.status_code == 429
    assert "_auth_user_id" not in client.session
    # Another account from the same address is not locked: the count is per username and address.
    other = Client().post("/admin/login/", {"username": "nobody", "password": "x"})
    assert other.status_code == 200


@pytest.mark.django_db
def test_the_openapi_schema_and_its_ui_are_served_from_local_files(supervisor: User) -> None:
    client = Client()
    client.force_login(supervisor)
    schema = client.get("/api/schema/", headers={"accept": "application/json"})
    assert schema.status_code == 200
    assert "/wfc/callback/{robot_id}" in schema.content.decode()
    docs = client.get("/api/docs/").content.decode()
    assert "swagger-ui" in docs
    assert "cdn" not in docs.lower()
    assert "https://" not in docs


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["anonymous", "servicer"])
def test_the_openapi_schema_and_its_ui_are_refused_to_all_but_staff(persona: str, servicer_seat: Seat) -> None:
    client = Client()
    if persona == "servicer":
        client.force_login(servicer_seat.user)
    schema = client.get("/api/schema/", headers={"accept": "application/json"})
    assert schema.status_code == 403
    assert "/wfc/callback/" not in schema.content.decode()
    assert client.get("/api/docs/").status_code == 403


@pytest.mark.django_db
def test_behind_nginx_a_lockout_is_for_the_real_client_not_for_everyone(
    supervisor: User, redis_client: redis.Redis, settings: Any
) -> None:
    settings.CS_TRUSTED_PROXY_COUNT = 1
    nginx = Client(REMOTE_ADDR="127.0.0.1")

    def login(client_address: str, password: str) -> int:
        credentials = {"username": "sup", "password": password}
        return nginx.post("/admin/login/", credentials, headers={"x-forwarded-for": client_address}).status_code

    assert [login("203.0.113.50", "wrong") for _ in range(5)] == [200, 200, 200, 200, 429]
    assert login("203.0.113.50", "sup-password") == 429
    # The supervisor, from their own address behind the same proxy, still logs in.
    assert login("203.0.113.51", "sup-password") == 302


def _failing_view(request: HttpRequest) -> HttpResponse:
    robot = Robot.objects.get(callback_token=request.GET["k"])
    token = robot.callback_token
    raise RuntimeError(f"failed while handling a callback of {robot}, token of length {len(token)}")


# This module is also the URLconf of the error page tests: the project's URLs plus a view that fails.
urlpatterns = [path("fail/", _failing_view), path("", include("cs_project.urls"))]


@pytest.fixture
def demo_secrets(settings: Any, db: None) -> dict[str, str]:
    """DEBUG on, as in the demo, with a distinctive value for each secret an error page could show."""
    settings.DEBUG = True
    settings.WFC_ADMIN_SECRET = "admin-secret-8f3b2c71d9"
    settings.CS_APP_SERVER_KEY = "app-server-key-5e1d9a7c3b0f4e2a6d8c1b3a5f7e9d0c"
    settings.REDIS_URL = "redis://:redis-password-4c2e9b@127.0.0.1:6379/9"
    settings.CELERY_BROKER_URL = settings.REDIS_URL
    robot = cs_robot_get()
    robot.secret = "robot-secret-1a9f3e7b5d"
    robot.save(update_fields=["secret"])
    return {
        "callback token": robot.callback_token,
        "robot secret": robot.secret,
        "admin secret": settings.WFC_ADMIN_SECRET,
        "app server key": settings.CS_APP_SERVER_KEY,
        "Django secret key": settings.SECRET_KEY,
        "Redis password": "redis-password-4c2e9b",
    }


def _assert_no_secret_in(page: str, secrets: dict[str, str]) -> None:
    for name, value in secrets.items():
        assert value not in page, f"the {name} appears on the error page"


@pytest.mark.urls(__name__)
@pytest.mark.parametrize("accept", ["text/html", "text/plain"])
def test_the_debug_500_page_shows_no_secret(demo_secrets: dict[str, str], accept: str) -> None:
    token = demo_secrets["callback token"]
    response = Client(raise_request_exception=False).get(f"/fail/?k={token}&page=2", headers={"accept": accept})
    assert response.status_code == 500
    page = response.content.decode()
    assert "RuntimeError" in page, "the technical page, with its traceback"
    assert "page" in page, "the other GET data is still shown"
    _assert_no_secret_in(page, demo_secrets)


@pytest.mark.urls(__name__)
def test_the_debug_404_page_at_a_callback_url_shows_no_secret(demo_secrets: dict[str, str]) -> None:
    token = demo_secrets["callback token"]
    response = Client().get(f"/wfc/callback/cs_robot/extra?k={token}")
    assert response.status_code == 404
    page = response.content.decode()
    assert "Page not found" in page, "the technical page"
    assert "wfc/callback" in page
    assert int(response["Content-Length"]) == len(response.content)
    _assert_no_secret_in(page, demo_secrets)


@pytest.mark.urls(__name__)
async def test_under_asgi_the_debug_404_page_shows_no_secret_either(demo_secrets: dict[str, str]) -> None:
    response = await AsyncClient().get(f"/wfc/callback/cs_robot/extra?k={demo_secrets['callback token']}")
    assert response.status_code == 404
    _assert_no_secret_in(response.content.decode(), demo_secrets)


def test_settings_that_hold_secrets_are_cleansed_by_name_or_by_their_url(demo_secrets: dict[str, str]) -> None:
    safe = get_default_exception_reporter_filter().get_safe_settings()
    for name in ("SECRET_KEY", "WFC_ADMIN_SECRET", "CS_APP_SERVER_KEY"):
        assert safe[name] == "********************", name
    assert safe["REDIS_URL"] == "redis://********************@127.0.0.1:6379/9"
    assert "redis-password" not in repr(safe)


def test_secrets_never_reach_the_logs(cs_stack: Stack, caplog: pytest.LogCaptureFixture, settings: object) -> None:
    caplog.set_level(logging.DEBUG)
    seat = cs_stack.online_seat("alice")
    customer = cs_stack.new_customer()
    cs_stack.im.say(customer, "转人工")
    cs_stack.im.wait_for_text(seat.im_user_id, "请求人工服务")
    shadow = Robot.objects.get(shadow_of=customer)
    cs_stack.im.say(seat.im_user_id, "您好", to=shadow.robot_id)
    cs_stack.im.wait_for_text(customer, "您好")
    cs_robot = Robot.objects.get(kind=Robot.Kind.CS)
    secrets = {
        "admin secret": cs_stack.admin.secret if hasattr(cs_stack.admin, "secret") else "",
        "CS Robot secret": cs_robot.secret,
        "CS Robot callback token": cs_robot.callback_token,
        "shadow secret": shadow.secret,
        "shadow callback token": shadow.callback_token,
    }
    from django.conf import settings as django_settings

    secrets["admin secret"] = django_settings.WFC_ADMIN_SECRET
    logged = "\n".join(record.getMessage() + repr(record.args) for record in caplog.records)
    assert len(caplog.records) > 10, "the flow was logged at DEBUG"
    for name, value in secrets.items():
        assert value, name
        assert value not in logged, f"the {name} appears in the logs"
    assert Seat.objects.get(pk=seat.pk).active_sessions == 1


@pytest.mark.e2e
def test_the_real_processes_do_not_log_secrets(live_stack: LiveStack) -> None:
    seat = live_stack.online_seat("alice")
    customer = live_stack.new_customer()
    live_stack.im.say(customer, "转人工")
    live_stack.im.wait_for_text(seat.im_user_id, "请求人工服务")
    cs_robot = Robot.objects.get(kind=Robot.Kind.CS)
    shadow = Robot.objects.get(shadow_of=customer)

    def read_logs() -> str:
        return "\n".join(path.read_text(errors="replace") for path in live_stack.logs.iterdir())

    # The deliverer may hand the servicer the message before Daphne has written the callback's line.
    callback_line = f'POST /wfc/callback/{cs_robot.robot_id}?k=***"'
    wait_until(lambda: callback_line in read_logs(), timeout=10, what="the access log to show callbacks, redacted")
    logs = read_logs()
    for value in (cs_robot.secret, cs_robot.callback_token, shadow.secret, shadow.callback_token):
        assert value not in logs
    assert live_stack.env["WFC_ADMIN_SECRET"] not in logs
