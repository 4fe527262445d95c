"""``make demo``'s command end to end: a fresh var directory, the embedded defaults (SQLite and the
embedded Redis), the sandbox, the CS server, a worker and beat; a customer gets the bot's welcome;
Ctrl-C stops every process it started; a second run on the same directory works too."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import psutil
import pytest
import requests

from cs_project import embedded_redis
from tests.support.processes import BASE_DIR, free_port, http_status, python, wait_until

pytestmark = pytest.mark.e2e


def _demo_env(tmp_path: Path) -> dict[str, str]:
    cs_port, robot_port, admin_port, redis_port = free_port(), free_port(), free_port(), free_port()
    dropped = ("DATABASE_URL", "REDIS_URL", "WFC_ADMIN_SECRET")
    return {key: value for key, value in os.environ.items() if key not in dropped and not key.startswith("WFS_")} | {
        "DJANGO_DEBUG": "1",
        "CS_VAR_DIR": str(tmp_path / "var"),
        "CS_EMBEDDED_REDIS_PORT": str(redis_port),
        "CS_PUBLIC_URL": f"http://127.0.0.1:{cs_port}",
        "CS_DEMO_PORT": str(cs_port),
        "WFS_ROBOT_PORT": str(robot_port),
        "WFS_ADMIN_PORT": str(admin_port),
        "WFS_DB": str(tmp_path / "sandbox.sqlite3"),
        "WFC_ROBOT_API_URL": f"http://127.0.0.1:{robot_port}",
        "WFC_ADMIN_API_URL": f"http://127.0.0.1:{admin_port}",
        "PYTHONUNBUFFERED": "1",
    }


def _run_once(env: dict[str, str], log: Path, customer: str) -> None:
    cs_url = env["CS_PUBLIC_URL"]
    with log.open("wb") as out:
        demo = subprocess.Popen(
            python("manage.py", "run_demo", "--port", env["CS_DEMO_PORT"]),
            cwd=BASE_DIR,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        started = time.monotonic()
        wait_until(
            lambda: http_status(f"{cs_url}/healthz") == 200, timeout=120, what=f"the demo to serve /healthz ({log})"
        )
        print(f"demo healthy after {time.monotonic() - started:.1f}s")  # noqa: T201 - kept in the test log
        wait_until(lambda: "Ctrl-C" in log.read_text(errors="replace"), timeout=30, what="the welcome with the URLs")
        printed = log.read_text(errors="replace")
        assert "servicer1 / servicer1" in printed
        assert "supervisor / supervisor" in printed
        children = psutil.Process(demo.pid).children(recursive=True)
        assert len(children) >= 4, [child.cmdline() for child in children]  # sandbox, asgi, worker, beat
        # A customer on the sandbox says hello to the CS Robot and gets the welcome.
        robot_url = env["WFC_ROBOT_API_URL"]
        created = requests.post(
            f"{robot_url}/sandbox/api/users", json={"userId": customer, "displayName": "演示顾客"}, timeout=10
        )
        assert created.status_code in (200, 201), created.text
        sent = requests.post(
            f"{robot_url}/sandbox/api/client/send",
            json={
                "sender": customer,
                "conv": {"type": 0, "target": "cs_robot", "line": 0},
                "payload": {"type": 1, "searchableContent": "你好", "persistFlag": 3},
            },
            timeout=10,
        )
        assert sent.status_code == 200, sent.text

        def answered() -> bool:
            inbox = requests.get(f"{robot_url}/sandbox/api/messages", params={"user": customer}, timeout=10).json()
            return any(message["sender"] == "cs_robot" for message in inbox)

        wait_until(answered, timeout=30, what="the CS Robot's answer in the customer's inbox")
        demo.send_signal(signal.SIGINT)  # Ctrl-C
        assert demo.wait(timeout=60) == 0, log.read_text(errors="replace")[-3000:]
        assert "all demo processes stopped" in log.read_text(errors="replace")
        psutil.wait_procs(children, timeout=10)
        left = [child for child in children if child.is_running() and child.status() != psutil.STATUS_ZOMBIE]
        assert left == [], [child.cmdline() for child in left]
        assert http_status(f"{cs_url}/healthz") is None
    finally:
        if demo.poll() is None:
            os.killpg(demo.pid, signal.SIGKILL)


def test_the_demo_starts_answers_a_customer_stops_cleanly_and_starts_again(tmp_path: Path) -> None:
    env = _demo_env(tmp_path)
    try:
        _run_once(env, tmp_path / "demo-1.log", "demo-customer-1")
        _run_once(env, tmp_path / "demo-2.log", "demo-customer-2")
    finally:
        embedded_redis.stop(var_dir=Path(env["CS_VAR_DIR"]))
