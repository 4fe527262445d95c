"""The whole stack as real processes: the sandbox IM server, ASGI server(s), Celery worker and beat,
the outbox deliverer (``manage.py outbox_stream``), the inbound drainer (``manage.py inbound_stream``,
when ``CS_INBOUND_DRAIN`` is "stream").

Served as in docs/deploy.md: ``python -m cs_project.asgi_server`` (Daphne) with the psycopg pool,
``celery worker -c 4`` and exactly one beat, all with ``DJANGO_DEBUG`` off. Several ASGI processes
share one listening socket (``--fd``), the way a pre-forking server does; the kernel spreads the
connections over them.
"""

from __future__ import annotations

import secrets
import socket
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import requests

from bench.config import BASE_DIR
from bench.im import UNLIMITED_ROBOT_RATE
from bench.processes import ProcessGroups, free_port, log_contains, python, wait_until

SANDBOX_ADMIN_SECRET = "bench-sandbox-admin-secret"  # noqa: S105 - a local stand-in server's secret
CS_APP = "cs_project.asgi:application"
NOPOOL_SETTINGS = "bench.nopool_settings"


@dataclass(frozen=True)
class SandboxUrls:
    robot_url: str
    admin_url: str
    admin_secret: str = SANDBOX_ADMIN_SECRET


def http_status(url: str) -> int | None:
    try:
        return requests.get(url, timeout=2).status_code
    except requests.RequestException:
        return None


def start_sandbox(groups: ProcessGroups, *, urls: SandboxUrls, directory: Path) -> None:
    """``python -m wfsandbox``, quiet (warnings only) so its log costs little CPU under load."""
    directory.mkdir(parents=True, exist_ok=True)
    db = directory / "sandbox.sqlite3"
    db.unlink(missing_ok=True)
    robot_port, admin_port = urls.robot_url.rpartition(":")[2], urls.admin_url.rpartition(":")[2]
    argv = python(
        "-m", "wfsandbox", "--host", "127.0.0.1", "--robot-port", robot_port, "--admin-port", admin_port,
        "--db", str(db), "--admin-secret", urls.admin_secret, "--log-level", "WARNING",
    )  # fmt: skip
    groups.start("sandbox", argv, env=_clean_env())

    def answers() -> bool:
        groups.check_alive()
        return http_status(f"{urls.admin_url}/admin/health") == 200

    wait_until(answers, timeout=30, what="the sandbox")


def _clean_env() -> dict[str, str]:
    import os

    return {key: value for key, value in os.environ.items() if not key.startswith(("WFS_", "DJANGO_", "CS_"))}


def stack_env(
    *, database_url: str, redis_url: str, public_url: str, sandbox: SandboxUrls, var_dir: Path
) -> dict[str, str]:
    """Production-like settings (``DJANGO_DEBUG`` off) pointing at the bench database and the sandbox."""
    return {
        **_clean_env(),
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(48),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_SECURE_SSL_REDIRECT": "0",  # plain HTTP on loopback; TLS would end at nginx
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "CS_PUBLIC_URL": public_url,
        "CS_VAR_DIR": str(var_dir),
        "WFC_ROBOT_API_URL": sandbox.robot_url,
        "WFC_ADMIN_API_URL": sandbox.admin_url,
        "WFC_ADMIN_SECRET": sandbox.admin_secret,
        # The scenarios raise the sandbox's robot limit out of the way (bench.im.UNLIMITED_ROBOT_RATE);
        # the client-side limiter is told the same, so it runs (its cost is measured) but never waits.
        "WFC_ROBOT_RATE_LIMIT": str(UNLIMITED_ROBOT_RATE),
        "PYTHONUNBUFFERED": "1",
    }


@dataclass
class Asgi:
    """One or more ASGI processes serving one port."""

    port: int
    names: list[str]
    listening: socket.socket | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@dataclass
class Stack:
    groups: ProcessGroups
    env: dict[str, str]
    sandbox: SandboxUrls
    port: int
    asgi: Asgi | None = None
    worker_names: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def pid(self, name: str) -> int:
        return self.groups.children[name].pid


def start_asgi(
    groups: ProcessGroups,
    *,
    env: dict[str, str],
    port: int,
    processes: int = 1,
    app: str = CS_APP,
    name: str = "asgi",
) -> Asgi:
    """Daphne on ``port``: one process binds it itself (as deployed); several share our socket."""
    names = [f"{name}{number + 1}" if processes > 1 else name for number in range(processes)]
    listening: socket.socket | None = None
    if processes == 1:
        groups.start(names[0], python("-m", "cs_project.asgi_server", "-b", "127.0.0.1", "-p", str(port), app), env=env)
    else:
        listening = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listening.bind(("127.0.0.1", port))
        listening.listen(1024)
        listening.set_inheritable(True)
        fd = listening.fileno()
        for each in names:
            groups.start(each, python("-m", "cs_project.asgi_server", "--fd", str(fd), app), env=env, pass_fds=(fd,))
    asgi = Asgi(port=port, names=names, listening=listening)

    def serving() -> bool:
        groups.check_alive()
        return http_status(f"{asgi.url}/healthz") is not None

    wait_until(serving, timeout=60, what=f"{name} to serve on port {port}")
    return asgi


def stop_asgi(groups: ProcessGroups, asgi: Asgi) -> None:
    for name in asgi.names:
        groups.stop(name)
    if asgi.listening is not None:
        asgi.listening.close()


def start_worker(groups: ProcessGroups, *, env: dict[str, str], concurrency: int, name: str = "worker") -> None:
    argv = python(
        "-m", "celery", "-A", "cs_project", "worker", "-l", "info", "-c", str(concurrency), "-n", f"{name}@%h"
    )
    child = groups.start(name, argv, env=env)

    def ready() -> bool:
        groups.check_alive()
        return log_contains(child.log, " ready.")

    wait_until(ready, timeout=60, what=f"{name} to be ready")


def start_outbox_stream(groups: ProcessGroups, *, env: dict[str, str], name: str = "outbox") -> None:
    child = groups.start(name, python("manage.py", "outbox_stream"), env=env)

    def ready() -> bool:
        groups.check_alive()
        return log_contains(child.log, "outbox stream: delivering")

    wait_until(ready, timeout=60, what=f"{name} to be delivering")


def start_inbound_stream(groups: ProcessGroups, *, env: dict[str, str], name: str = "inbound") -> None:
    child = groups.start(name, python("manage.py", "inbound_stream"), env=env)

    def ready() -> bool:
        groups.check_alive()
        return log_contains(child.log, "inbound stream: draining")

    wait_until(ready, timeout=60, what=f"{name} to be draining")


def start_beat(groups: ProcessGroups, *, env: dict[str, str]) -> None:
    groups.start("beat", python("-m", "celery", "-A", "cs_project", "beat", "-l", "info"), env=env)


def manage(env: dict[str, str], *args: str) -> str:
    """``python manage.py ...`` with the stack's settings; its output, or an error with it."""
    result = subprocess.run(
        python("manage.py", *args), cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


@dataclass(frozen=True)
class StackPlan:
    """Ports and environment of a stack, fixed before it starts (the harness configures Django with it)."""

    env: dict[str, str]
    port: int
    sandbox: SandboxUrls
    var_dir: Path


def plan_stack(
    *, database_url: str, redis_url: str, var_dir: Path, extra_env: dict[str, str] | None = None
) -> StackPlan:
    sandbox = SandboxUrls(f"http://127.0.0.1:{free_port()}", f"http://127.0.0.1:{free_port()}")
    port = free_port()
    env = stack_env(
        database_url=database_url,
        redis_url=redis_url,
        public_url=f"http://127.0.0.1:{port}",
        sandbox=sandbox,
        var_dir=var_dir,
    ) | (extra_env or {})
    return StackPlan(env=env, port=port, sandbox=sandbox, var_dir=var_dir)


def start_stack(
    groups: ProcessGroups, plan: StackPlan, *, asgi_processes: int = 1, worker_concurrency: int = 4
) -> Stack:
    """Sandbox, then the CS server, worker, beat, the outbox deliverer and (CS_INBOUND_DRAIN=stream)
    the inbound drainer on a migrated database, then ``wfc_setup``."""
    start_sandbox(groups, urls=plan.sandbox, directory=plan.var_dir / "sandbox")
    manage(plan.env, "migrate", "-v0")
    stack = Stack(groups=groups, env=plan.env, sandbox=plan.sandbox, port=plan.port)
    stack.asgi = start_asgi(groups, env=plan.env, port=plan.port, processes=asgi_processes)
    start_worker(groups, env=plan.env, concurrency=worker_concurrency)
    stack.worker_names.append("worker")
    start_beat(groups, env=plan.env)
    start_outbox_stream(groups, env=plan.env)
    if plan.env.get("CS_INBOUND_DRAIN") == "stream":
        start_inbound_stream(groups, env=plan.env)
    # The brief's own setup step: the CS Robot on the IM server, its callback pointing at us.
    manage(plan.env, "wfc_setup")
    return stack


def restart_asgi(stack: Stack, *, processes: int, settings_module: str | None = None) -> None:
    """Replace the ASGI server(s) on the same port (the CS Robot's callback URL stays valid)."""
    if stack.asgi is not None:
        stop_asgi(stack.groups, stack.asgi)
    env = stack.env if settings_module is None else stack.env | {"DJANGO_SETTINGS_MODULE": settings_module}
    stack.asgi = start_asgi(stack.groups, env=env, port=stack.port, processes=processes)
