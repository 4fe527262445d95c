"""Security properties that cut across apps: login throttling, API docs served locally, no secrets in logs."""

from __future__ import annotations

import logging

import pytest
import redis
from django.contrib.auth.models import User
from django.test import Client

from robots.models import Robot
from seats.models import Seat
from tests.support.cs_stack import Stack
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


def test_secrets_never_reach_the_logs(cs_stack: Stack, caplog: pytest.LogCaptureFixture, settings: object) -> None:
    caplog.set_level(logging.DEBUG)
    seat = cs_stack.online_seat("alice")
    customer = cs_stack.new_customer()
    cs_stack.im.say(customer, "转人工")
    cs_stack.im.wait_for_text(seat.im_user_id, "请求人工服务")
    shadow = Robot.objects.get(customer__im_user_id=customer)
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
    shadow = Robot.objects.get(customer__im_user_id=customer)
    logs = "\n".join(path.read_text(errors="replace") for path in live_stack.logs.iterdir())
    assert f'POST /wfc/callback/{cs_robot.robot_id}?k=***"' in logs, "the access log shows callbacks, redacted"
    for value in (cs_robot.secret, cs_robot.callback_token, shadow.secret, shadow.callback_token):
        assert value not in logs
    assert live_stack.env["WFC_ADMIN_SECRET"] not in logs
