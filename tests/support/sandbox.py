"""The Wildfire sandbox as a real process for tests, plus raw signed HTTP helpers.

The signing here is written from ``wildfire-protocol.md`` §2 on purpose, not imported from
``wfsandbox`` or ``robots``, so a test checks the sandbox against the reference, not against itself.

Fixtures: ``sandbox`` (one process for the whole session) and ``fresh_sandbox`` (a new process and an
empty database per test). ``sandbox_process`` starts one with extra options, e.g. ``--disable-stranger-chat``.
"""

from __future__ import annotations

import hashlib
import os
import random
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.support.processes import free_port, python, running, wait_until

Json = dict[str, Any]
TEST_ADMIN_SECRET = "sandbox-test-admin-secret"


def sign(nonce: str, secret: str, timestamp: str) -> str:
    """§2.1: lowercase hex SHA-1 of ``nonce|secret|timestampMs``."""
    return hashlib.sha1(f"{nonce}|{secret}|{timestamp}".encode()).hexdigest()  # noqa: S324 - the protocol's hash


def signed_headers(secret: str, *, nonce: str | None = None, timestamp_ms: int | None = None) -> dict[str, str]:
    nonce = nonce or str(random.randint(3, 100002))
    timestamp = str(int(time.time() * 1000) if timestamp_ms is None else timestamp_ms)
    return {"nonce": nonce, "timestamp": timestamp, "sign": sign(nonce, secret, timestamp)}


def robot_headers(robot_id: str, secret: str, **kwargs: Any) -> dict[str, str]:
    return {**signed_headers(secret, **kwargs), "rid": robot_id}


@dataclass(frozen=True)
class Sandbox:
    robot_url: str
    admin_url: str
    admin_secret: str
    db_path: Path
    log_path: Path

    # Raw HTTP: the response as it came, for tests that pin bytes and status codes.

    def admin_post(self, path: str, body: object = None, *, headers: dict[str, str] | None = None) -> requests.Response:
        sent = signed_headers(self.admin_secret) if headers is None else headers
        return requests.post(f"{self.admin_url}{path}", json=body, headers=sent, timeout=10)

    def robot_post(
        self, path: str, body: object = None, *, robot_id: str, secret: str, headers: dict[str, str] | None = None
    ) -> requests.Response:
        sent = robot_headers(robot_id, secret) if headers is None else headers
        return requests.post(f"{self.robot_url}{path}", json=body, headers=sent, timeout=10)

    # Conveniences that insist on success and return ``result``.

    def admin(self, path: str, body: object = None) -> Any:
        return _result(self.admin_post(path, body))

    def robot(self, path: str, body: object = None, *, robot_id: str, secret: str) -> Any:
        return _result(self.robot_post(path, body, robot_id=robot_id, secret=secret))

    def create_robot(self, robot_id: str, *, callback: str = "", secret: str = "", display_name: str = "") -> str:
        """Create or update a robot; returns its secret."""
        body = {"userId": robot_id, "name": robot_id, "displayName": display_name or robot_id, "secret": secret}
        if callback:
            body["callback"] = callback
        result = self.admin("/admin/robot/create", body)
        return str(result["secret"])

    def create_user(self, user_id: str, *, display_name: str = "") -> None:
        self.admin("/admin/user/create", {"userId": user_id, "name": user_id, "displayName": display_name or user_id})

    def configure(self, **patch: Any) -> Json:
        response = requests.post(f"{self.robot_url}/sandbox/api/config", json=patch, timeout=10)
        response.raise_for_status()
        body: Json = response.json()
        return body

    def client_send(self, sender: str, target: str, payload: Json) -> Json:
        body = {"sender": sender, "conv": {"type": 0, "target": target, "line": 0}, "payload": payload}
        response = requests.post(f"{self.robot_url}/sandbox/api/client/send", json=body, timeout=10)
        response.raise_for_status()
        envelope: Json = response.json()
        return envelope

    def inbox(self, user: str, *, after: int | None = None) -> list[Json]:
        params: dict[str, str | int] = {"user": user}
        if after is not None:
            params["after"] = after
        response = requests.get(f"{self.robot_url}/sandbox/api/messages", params=params, timeout=10)
        response.raise_for_status()
        messages: list[Json] = response.json()
        return messages


def _result(response: requests.Response) -> Any:
    assert response.status_code == 200, f"HTTP {response.status_code} from {response.url}: {response.text[:300]}"
    body = response.json()
    assert body["code"] == 0, f"{response.url} answered {body}"
    return body.get("result")


def _health_answers(admin_url: str) -> bool:
    try:
        return requests.get(f"{admin_url}/admin/health", timeout=2).status_code == 200
    except requests.RequestException:
        return False


@contextmanager
def sandbox_process(
    directory: Path, *options: str, db_path: Path | None = None, admin_secret: str = TEST_ADMIN_SECRET
) -> Iterator[Sandbox]:
    """``python -m wfsandbox`` on two free ports with its database in ``directory`` (or ``db_path``);
    stopped with SIGTERM on exit. Its log is ``directory/sandbox-<port>.log``."""
    robot_port, admin_port = free_port(), free_port()
    db = db_path or directory / "sandbox.sqlite3"
    log = directory / f"sandbox-{robot_port}.log"
    env = {key: value for key, value in os.environ.items() if not key.startswith("WFS_")}
    env["PYTHONUNBUFFERED"] = "1"
    argv = python(
        "-m",
        "wfsandbox",
        "--host",
        "127.0.0.1",
        "--robot-port",
        str(robot_port),
        "--admin-port",
        str(admin_port),
        "--db",
        str(db),
        "--admin-secret",
        admin_secret,
        *options,
    )
    with running(argv, env=env, log=log) as child:
        sandbox = Sandbox(
            robot_url=f"http://127.0.0.1:{robot_port}",
            admin_url=f"http://127.0.0.1:{admin_port}",
            admin_secret=admin_secret,
            db_path=db,
            log_path=log,
        )

        def ready() -> bool:
            if child.poll() is not None:
                raise AssertionError(f"the sandbox exited with {child.returncode}:\n{log.read_text()}")
            return _health_answers(sandbox.admin_url)

        wait_until(ready, timeout=20, what="the sandbox to answer /admin/health")
        yield sandbox


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    """One sandbox for the session; tests use unique ids so they do not see each other's data."""
    with sandbox_process(tmp_path_factory.mktemp("sandbox")) as running_sandbox:
        yield running_sandbox


@pytest.fixture
def fresh_sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    """A sandbox of its own with an empty database, for tests that change its settings."""
    with sandbox_process(tmp_path) as running_sandbox:
        yield running_sandbox
