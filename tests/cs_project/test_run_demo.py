"""``make demo``'s command end to end: a fresh var directory, the embedded defaults (PostgreSQL and
Redis), the sandbox, the CS server, a worker and beat; a customer gets the bot's welcome; the terminal
shows the welcome and no access chatter; Ctrl-C stops every process it started, the embedded servers
included; a second run on the same directory finds the first run's transcripts."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import psutil
import psycopg
import pytest
import requests

from cs_project import embedded_postgres, embedded_redis
from tests.support.demo import demo_env, start_demo, stop_demo, stop_embedded_servers, wait_for_welcome
from tests.support.processes import http_status, wait_until

pytestmark = pytest.mark.e2e


def _transcript_of(env: dict[str, str], customer: str) -> list[str]:
    """What the embedded database holds of a customer's conversation, read directly."""
    with psycopg.connect(
        embedded_postgres.database_url(int(env["CS_EMBEDDED_POSTGRES_PORT"]), Path(env["CS_VAR_DIR"]))
    ) as conn:
        rows = conn.execute(
            "SELECT m.payload ->> 'searchableContent' FROM sessions_app_message m"
            " JOIN sessions_app_servicesession s ON s.id = m.session_id"
            " JOIN sessions_app_customer c ON c.id = s.customer_id WHERE c.im_user_id = %s ORDER BY m.id",
            [customer],
        ).fetchall()
    return [row[0] for row in rows]


def _run_once(env: dict[str, str], log: Path, customer: str, *, earlier_customer: str | None = None) -> float:
    """One run of the demo; returns the seconds from start to the printed welcome."""
    cs_url = env["CS_PUBLIC_URL"]
    started = time.monotonic()
    demo = start_demo(env, log)
    try:
        wait_for_welcome(demo, log)
        welcome_after = time.monotonic() - started
        assert http_status(f"{cs_url}/healthz") == 200
        printed = log.read_text(errors="replace")
        assert "servicer1 / servicer1" in printed
        assert "supervisor / supervisor" in printed
        logs = Path(env["CS_VAR_DIR"]) / "logs"
        assert f"{logs}/<process>.log" in printed
        # The terminal has the welcome and a line per process, not the processes' chatter: that is in
        # their own log files.
        assert "/healthz" not in printed.split("客服系统演示已启动")[0]
        assert "celery@" not in printed
        assert " INFO " not in printed, printed
        assert "GET /healthz" in (logs / "asgi.log").read_text(errors="replace")
        assert "celery@" in (logs / "worker.log").read_text(errors="replace")
        for name in ("sandbox", "asgi", "worker", "beat"):
            assert f"started {name}" in printed
        if earlier_customer is not None:
            # The first run's transcript is still in the embedded database.
            assert "你好" in _transcript_of(env, earlier_customer)
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
        wait_until(lambda: "你好" in _transcript_of(env, customer), timeout=30, what="the customer's message kept")
        demo.send_signal(signal.SIGINT)  # Ctrl-C
        assert demo.wait(timeout=60) == 0, log.read_text(errors="replace")[-3000:]
        stopped = log.read_text(errors="replace")
        assert "all demo processes stopped" in stopped
        assert "stopped postgres (embedded)" in stopped
        assert not embedded_postgres.is_answering(int(env["CS_EMBEDDED_POSTGRES_PORT"]))
        assert not embedded_redis.is_answering(int(env["CS_EMBEDDED_REDIS_PORT"]))
        psutil.wait_procs(children, timeout=10)
        left = [child for child in children if child.is_running() and child.status() != psutil.STATUS_ZOMBIE]
        assert left == [], [child.cmdline() for child in left]
        assert http_status(f"{cs_url}/healthz") is None
        return welcome_after
    finally:
        stop_demo(demo)  # after a failed assertion: its processes must not outlive the test


def test_the_demo_starts_answers_a_customer_stops_cleanly_and_starts_again_with_its_data(tmp_path: Path) -> None:
    env = demo_env(tmp_path)
    try:
        first = _run_once(env, tmp_path / "demo-1.log", "demo-customer-1")
        second = _run_once(env, tmp_path / "demo-2.log", "demo-customer-2", earlier_customer="demo-customer-1")
        print(f"welcome after {first:.1f}s (first run), {second:.1f}s (second run)")  # noqa: T201 - test log
    finally:
        stop_embedded_servers(env)
