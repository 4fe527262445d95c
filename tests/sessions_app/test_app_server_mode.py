"""The whole transfer flow with the CS server holding no IM admin secret."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from pytest_django.fixtures import Settings as SettingsWrapper

from robots.models import Robot
from sessions_app.models import ServiceSession
from tests.support.cs_stack import Stack
from tests.support.processes import free_port, http_status, python, running, wait_until

if TYPE_CHECKING:
    from tests.support.sandbox import Sandbox

KEY = "app-server-shared-key-0123456789abcdef"


@pytest.fixture
def app_server_mode(cs_stack: Stack, sandbox: Sandbox, settings: SettingsWrapper, tmp_path: Path) -> Iterator[Stack]:
    port = free_port()
    env = {
        **os.environ,
        "CS_APP_SERVER_KEY": KEY,
        "CS_APP_SERVER_PORT": str(port),
        "WFC_ADMIN_API_URL": sandbox.admin_url,
        "WFC_ADMIN_SECRET": sandbox.admin_secret,
    }
    with running(python("-m", "robots.appserver"), env=env, log=tmp_path / "appserver.log"):
        url = f"http://127.0.0.1:{port}"
        wait_until(lambda: http_status(f"{url}/healthz") == 200, timeout=20, what="the app server")
        settings.CS_IM_ADMIN_MODE = "app_server"
        settings.CS_APP_SERVER_URL = url
        settings.CS_APP_SERVER_KEY = KEY
        settings.WFC_ADMIN_SECRET = ""
        yield cs_stack


def test_shadows_are_created_through_the_app_server(app_server_mode: Stack) -> None:
    seat = app_server_mode.online_seat("alice")
    customer = app_server_mode.new_customer()
    app_server_mode.im.say(customer, "转人工")
    handover = app_server_mode.im.wait_for_text(seat.im_user_id, "请求人工服务")
    shadow = Robot.objects.get(shadow_of=customer)
    assert handover["sender"] == shadow.robot_id
    assert ServiceSession.objects.get(customer__im_user_id=customer).state == ServiceSession.State.HUMAN
