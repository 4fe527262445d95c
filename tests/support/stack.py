"""The CS server as real processes (Daphne, Celery worker, Celery beat) on the test database.

For tests whose behaviour depends on those processes: websockets, real Celery delivery and
retries, beat-driven sweeps, several processes at once. The sandbox is the IM server.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import redis
from django.db import connection
from pytest_django.fixtures import Settings as SettingsWrapper

from robots.services import cs_robot_setup
from robots.wfprotocol import AdminClient
from seats.models import Seat
from seats.services import seat_create_with_user
from tests.support.im import SandboxIm
from tests.support.processes import free_port, http_status, python, running, wait_until

if TYPE_CHECKING:
    import subprocess

    from tests.support.sandbox import Sandbox


@dataclass
class LiveStack:
    url: str
    env: dict[str, str]
    im: SandboxIm
    admin: AdminClient
    logs: Path
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    exits: ExitStack = field(default_factory=ExitStack)  # stops every process started for the stack

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


def stack_env(*, sandbox: Sandbox, public_url: str, var_dir: Path, redis_url: str) -> dict[str, str]:
    db = connection.settings_dict
    user, host, port = db["USER"] or "postgres", db["HOST"] or "127.0.0.1", db["PORT"] or 5432
    return {
        **os.environ,
        "DJANGO_DEBUG": "1",
        "DATABASE_URL": f"postgres://{user}@{host}:{port}/{db['NAME']}",
        "REDIS_URL": redis_url,
        "CS_PUBLIC_URL": public_url,
        "CS_VAR_DIR": str(var_dir),
        "WFC_ROBOT_API_URL": sandbox.robot_url,
        "WFC_ADMIN_API_URL": sandbox.admin_url,
        "WFC_ADMIN_SECRET": sandbox.admin_secret,
        "CS_IDLE_SWEEP_SECONDS": "2",
    }


def start_asgi(stack: LiveStack, exits: ExitStack, *, name: str = "asgi", port: int | None = None) -> str:
    port = port or free_port()
    argv = python("-m", "cs_project.asgi_server", "-b", "127.0.0.1", "-p", str(port), "cs_project.asgi:application")
    stack.processes[name] = exits.enter_context(running(argv, env=stack.env, log=stack.logs / f"{name}.log"))
    url = f"http://127.0.0.1:{port}"
    wait_until(lambda: http_status(f"{url}/healthz") in (200, 503), timeout=60, what=f"{name} to serve")
    return url


def start_worker(stack: LiveStack, exits: ExitStack, *, name: str = "worker") -> None:
    argv = python("-m", "celery", "-A", "cs_project", "worker", "-c", "2", "-l", "info", "-n", f"{name}@%h")
    stack.processes[name] = exits.enter_context(running(argv, env=stack.env, log=stack.logs / f"{name}.log"))


def start_outbox_stream(stack: LiveStack, exits: ExitStack, *, name: str = "outbox") -> None:
    argv = python("manage.py", "outbox_stream")
    stack.processes[name] = exits.enter_context(running(argv, env=stack.env, log=stack.logs / f"{name}.log"))


def start_inbound_stream(stack: LiveStack, exits: ExitStack, *, name: str = "inbound") -> None:
    argv = python("manage.py", "inbound_stream")
    stack.processes[name] = exits.enter_context(running(argv, env=stack.env, log=stack.logs / f"{name}.log"))
    wait_until(
        lambda: "inbound stream: draining" in (stack.logs / f"{name}.log").read_text(errors="replace"),
        timeout=60,
        what=f"{name} to be draining",
    )


def start_beat(stack: LiveStack, exits: ExitStack) -> None:
    argv = python("-m", "celery", "-A", "cs_project", "beat", "-l", "info")
    stack.processes["beat"] = exits.enter_context(running(argv, env=stack.env, log=stack.logs / "beat.log"))


@contextmanager
def stack_running(
    *,
    sandbox: Sandbox,
    settings: SettingsWrapper,
    tmp_path: Path,
    workers: int = 1,
    extra_env: dict[str, str] | None = None,
    inbound_drain: str = "stream",
) -> Iterator[LiveStack]:
    """Daphne + workers + beat + the outbox deliverer (and, when ``inbound_drain`` is "stream", the
    inbound drainer) on the test database, wired to the sandbox, the CS Robot set up."""
    # The stack shares the test process's Redis database (so tasks the test queues reach its
    # workers); it starts empty, without tasks left by earlier tests.
    redis.Redis.from_url(settings.REDIS_URL).flushdb()
    port = free_port()
    public_url = f"http://127.0.0.1:{port}"
    settings.CS_PUBLIC_URL = public_url
    settings.WFC_ROBOT_API_URL = sandbox.robot_url
    settings.WFC_ADMIN_API_URL = sandbox.admin_url
    settings.WFC_ADMIN_SECRET = sandbox.admin_secret
    # What this test process writes to the outbox is delivered by the stack's outbox_stream too.
    settings.CS_OUTBOX_DELIVERY = "stream"
    cs_robot_setup()
    logs = tmp_path / "logs"
    logs.mkdir(exist_ok=True)
    stack = LiveStack(
        url=public_url,
        env=stack_env(sandbox=sandbox, public_url=public_url, var_dir=tmp_path, redis_url=settings.REDIS_URL)
        | {"CS_INBOUND_DRAIN": inbound_drain}
        | (extra_env or {}),
        im=SandboxIm(sandbox.robot_url),
        admin=AdminClient(sandbox.admin_url, sandbox.admin_secret),
        logs=logs,
    )
    with stack.exits as exits:
        start_asgi(stack, exits, port=port)
        for number in range(workers):
            start_worker(stack, exits, name=f"worker{number + 1}")
        start_beat(stack, exits)
        start_outbox_stream(stack, exits)
        if inbound_drain == "stream":
            start_inbound_stream(stack, exits)
        wait_until(lambda: http_status(f"{public_url}/healthz") == 200, timeout=60, what="the stack to be healthy")
        yield stack


@pytest.fixture
def live_stack(
    sandbox: Sandbox, settings: SettingsWrapper, transactional_db: None, tmp_path: Path
) -> Iterator[LiveStack]:
    with stack_running(sandbox=sandbox, settings=settings, tmp_path=tmp_path) as stack:
        yield stack
