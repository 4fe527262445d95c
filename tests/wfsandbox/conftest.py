"""Fixtures for the sandbox's own tests: the sandbox process and a robot callback receiver."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tests.support.sandbox import Sandbox, fresh_sandbox, sandbox

__all__ = ["fresh_sandbox", "sandbox"]


@dataclass(frozen=True)
class Received:
    path: str  # with the query string, as requested
    headers: dict[str, str]
    text: str

    @property
    def json(self) -> Any:
        return json.loads(self.text)


class CallbackReceiver:
    """A plain HTTP server standing in for a CS server's callback endpoint; one thread per request,
    so it never limits concurrency itself. ``delay`` makes each answer slow."""

    def __init__(self) -> None:
        self.delay = 0.0
        self.received: list[Received] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                text = self.rfile.read(length).decode("utf-8")
                with receiver._lock:
                    receiver.in_flight += 1
                    receiver.max_in_flight = max(receiver.max_in_flight, receiver.in_flight)
                time.sleep(receiver.delay)
                with receiver._lock:
                    receiver.in_flight -= 1
                    receiver.received.append(Received(self.path, dict(self.headers.items()), text))
                    receiver._lock.notify_all()
                body = b'"ok"'
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}{path}"

    def wait_for(self, count: int, *, timeout: float = 10) -> list[Received]:
        with self._lock:
            if not self._lock.wait_for(lambda: len(self.received) >= count, timeout=timeout):
                raise AssertionError(f"expected {count} callbacks, got {len(self.received)}: {self.received}")
            return list(self.received)

    def for_path(self, path: str) -> list[Received]:
        with self._lock:
            return [r for r in self.received if r.path.split("?")[0] == path]

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def receiver() -> Iterator[CallbackReceiver]:
    server = CallbackReceiver()
    yield server
    server.close()


def unique(prefix: str) -> str:
    """An id no other test uses, since the session's sandbox is shared."""
    return f"{prefix}_{uuid.uuid4().hex[:10]}"


@dataclass(frozen=True)
class RobotAccount:
    robot_id: str
    secret: str


@pytest.fixture
def robot(sandbox: Sandbox) -> RobotAccount:
    """A robot without a callback, in the session's sandbox."""
    robot_id = unique("bot")
    return RobotAccount(robot_id, sandbox.create_robot(robot_id, secret=f"secret-{robot_id}"))


@pytest.fixture
def customer(sandbox: Sandbox) -> str:
    user_id = unique("cust")
    sandbox.create_user(user_id, display_name="顾客")
    return user_id
