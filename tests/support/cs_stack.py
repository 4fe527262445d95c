"""The CS server in-process (live server), with the sandbox as IM server: the `cs_stack` fixture.

The CS server runs as pytest-django's live server; Celery tasks run eagerly in the thread that
commits them (the delivery code is the real one; tests/e2e run real worker processes).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pytest
import requests
from pytest_django.fixtures import Settings as SettingsWrapper
from pytest_django.live_server_helper import LiveServer

from robots.services import cs_robot_setup
from robots.wfprotocol import AdminClient
from seats.models import Seat
from seats.services import seat_create_with_user
from sessions_app.models import FaqEntry
from tests.support.im import SandboxIm

if TYPE_CHECKING:
    from tests.support.sandbox import Sandbox


@dataclass
class Stack:
    im: SandboxIm
    cs_robot: str
    admin: AdminClient  # the test's own handle on the sandbox, independent of the CS server's settings

    def new_customer(self) -> str:
        uid = f"cust-{uuid.uuid4().hex[:10]}"
        self.admin.create_user(user_id=uid, name=uid, display_name=f"顾客{uid[-4:]}")
        return uid

    def online_seat(self, username: str, *, capacity: int = 3, im: bool = True) -> Seat:
        im_id = f"{username}-{uuid.uuid4().hex[:6]}" if im else ""
        seat = seat_create_with_user(
            username=username,
            password=f"{username}-pw",
            display_name=username.title(),
            capacity=capacity,
            im_user_id=im_id,
        )
        if im:
            self.admin.create_user(user_id=im_id, name=im_id, display_name=seat.display_name)
        Seat.objects.filter(pk=seat.pk).update(status=Seat.Status.ONLINE)
        seat.refresh_from_db()
        return seat


@pytest.fixture
def cs_stack(
    live_server: LiveServer, sandbox: Sandbox, settings: SettingsWrapper, transactional_db: None, celery_eager: None
) -> Iterator[Stack]:
    settings.CS_PUBLIC_URL = live_server.url
    settings.WFC_ROBOT_API_URL = sandbox.robot_url
    settings.WFC_ADMIN_API_URL = sandbox.admin_url
    settings.WFC_ADMIN_SECRET = sandbox.admin_secret
    try:
        cs_robot_setup()
        admin = AdminClient(sandbox.admin_url, sandbox.admin_secret)
        yield Stack(im=SandboxIm(sandbox.robot_url), cs_robot=settings.CS_ROBOT_ID, admin=admin)
    finally:
        # Callbacks the sandbox still has in flight are live-server requests writing to the
        # database: let them finish before pytest-django truncates the tables under them.
        _wait_for_callbacks_to_settle(sandbox.robot_url)


def _wait_for_callbacks_to_settle(robot_url: str, *, timeout: float = 15.0) -> None:
    """Until the sandbox reports no pending callback twice in a row (a reply may start another)."""
    deadline = time.monotonic() + timeout
    quiet = 0
    while quiet < 2 and time.monotonic() < deadline:
        pending = requests.get(f"{robot_url}/sandbox/api/callbacks", timeout=5).json()["pending"]
        quiet = quiet + 1 if pending == 0 else 0
        time.sleep(0.05)


@pytest.fixture
def faq(transactional_db: None) -> list[FaqEntry]:
    return [
        FaqEntry.objects.create(
            question="怎么退货", alternatives="如何退货\n退货流程", answer="七天内可在订单页申请退货。", rank=1
        ),
        FaqEntry.objects.create(
            question="发货时间", alternatives="什么时候发货", answer="付款后 48 小时内发货。", rank=2
        ),
    ]
