"""``make demo``'s own stack for tests: ``manage.py run_demo`` in a child process on free ports and a
fresh var directory, with the embedded PostgreSQL and Redis it starts itself."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from cs_project import embedded_postgres, embedded_redis
from tests.support.processes import BASE_DIR, free_port, python, wait_until


def demo_env(tmp_path: Path) -> dict[str, str]:
    """The environment of a newcomer's ``make demo``: no DATABASE_URL, REDIS_URL or IM secret, free ports."""
    cs_port, robot_port, admin_port = free_port(), free_port(), free_port()
    redis_port, postgres_port = free_port(), free_port()
    dropped = ("DATABASE_URL", "REDIS_URL", "WFC_ADMIN_SECRET")
    return {key: value for key, value in os.environ.items() if key not in dropped and not key.startswith("WFS_")} | {
        "DJANGO_DEBUG": "1",
        "CS_VAR_DIR": str(tmp_path / "var"),
        "CS_EMBEDDED_REDIS_PORT": str(redis_port),
        "CS_EMBEDDED_POSTGRES_PORT": str(postgres_port),
        "CS_PUBLIC_URL": f"http://127.0.0.1:{cs_port}",
        "CS_DEMO_PORT": str(cs_port),
        "WFS_ROBOT_PORT": str(robot_port),
        "WFS_ADMIN_PORT": str(admin_port),
        "WFS_DB": str(tmp_path / "sandbox.sqlite3"),
        "WFC_ROBOT_API_URL": f"http://127.0.0.1:{robot_port}",
        "WFC_ADMIN_API_URL": f"http://127.0.0.1:{admin_port}",
        "PYTHONUNBUFFERED": "1",
    }


def start_demo(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            python("manage.py", "run_demo", "--port", env["CS_DEMO_PORT"]),
            cwd=BASE_DIR,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def wait_for_welcome(demo: subprocess.Popen[bytes], log: Path, *, timeout: float = 120) -> None:
    """As a newcomer would: the pages are opened once the welcome names them. A demo that stops
    first, or never welcomes, fails the test with what it printed and its processes' log files."""

    def printed() -> str:
        return log.read_text(errors="replace")

    try:
        wait_until(lambda: "Ctrl-C" in printed() or demo.poll() is not None, timeout=timeout, what="the welcome")
    except AssertionError:
        raise AssertionError(f"no welcome after {timeout:.0f}s:\n{printed()[-3000:]}\n{_process_logs(log)}") from None
    if demo.poll() is not None:
        raise AssertionError(f"the demo exited with {demo.returncode}:\n{printed()[-3000:]}\n{_process_logs(log)}")


def _process_logs(log: Path) -> str:
    """The end of every process's log under the demo's var directory (next to its own log)."""
    tails = [
        f"--- {path.name}\n{path.read_text(errors='replace')[-1500:]}"
        for path in sorted(log.parent.glob("var/logs/*.log"))
    ]
    return "\n".join(tails)


def stop_embedded_servers(env: dict[str, str]) -> None:
    var_dir = Path(env["CS_VAR_DIR"])
    embedded_postgres.stop(var_dir=var_dir)
    embedded_redis.stop(var_dir=var_dir)


def stop_demo(demo: subprocess.Popen[bytes]) -> None:
    """Ctrl-C, so the demo stops its own processes (each in a session of its own, which a kill of the
    demo's group would leave behind); SIGKILL only if it does not end."""
    if demo.poll() is not None:
        return
    demo.send_signal(signal.SIGINT)
    try:
        demo.wait(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(demo.pid, signal.SIGKILL)


@dataclass(frozen=True)
class RunningDemo:
    env: dict[str, str]
    log: Path

    @property
    def url(self) -> str:
        return self.env["CS_PUBLIC_URL"]

    @property
    def robot_url(self) -> str:
        return self.env["WFC_ROBOT_API_URL"]


@contextmanager
def demo_running(tmp_path: Path) -> Iterator[RunningDemo]:
    """The whole demo, up and welcoming; stopped with Ctrl-C (SIGINT) afterwards, embedded servers included."""
    env, log = demo_env(tmp_path), tmp_path / "demo.log"
    demo = start_demo(env, log)
    try:
        wait_for_welcome(demo, log)
        yield RunningDemo(env=env, log=log)
    finally:
        stop_demo(demo)
        stop_embedded_servers(env)
