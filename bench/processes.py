"""Starting and stopping every process the harness runs, so that none outlives it.

Each child runs in its own session (process group). ``ProcessGroups`` stops them all, newest first,
when its ``with`` block ends, however it ends: normally, on an exception, on Ctrl-C (SIGINT) or on
SIGTERM (turned into ``SystemExit`` by ``exit_on_sigterm``). Every group is also written to a
registry directory while it runs, so the orchestrator can stop what a crashed scenario left behind.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType, TracebackType

from bench.config import BASE_DIR, VAR_DIR

REGISTRY_DIR = VAR_DIR / "running"
STOP_TIMEOUT_SECONDS = 5  # then SIGKILL: a Daphne that served load can take longer to exit


def exit_on_sigterm() -> None:
    """Make SIGTERM unwind the stack like Ctrl-C does, so every ``finally`` runs."""

    def _raise(signum: int, _frame: FrameType | None) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, _raise)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def python(*args: str) -> list[str]:
    return [sys.executable, *args]


def wait_until(predicate: Callable[[], bool], *, timeout: float, what: str, interval: float = 0.2) -> float:
    """Poll until ``predicate()``; returns the seconds it took, raises after ``timeout``."""
    started = time.monotonic()
    while True:
        if predicate():
            return time.monotonic() - started
        if time.monotonic() - started > timeout:
            raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def stop_group(
    pgid: int, *, leader: subprocess.Popen[bytes] | None = None, timeout: float = STOP_TIMEOUT_SECONDS
) -> None:
    """SIGTERM the whole group, then SIGKILL what is left after ``timeout``.

    ``leader`` is reaped as soon as it exits: an unreaped (zombie) leader keeps the group alive."""
    for signum in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(pgid, signum)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if leader is not None:
                leader.poll()
            if not _group_alive(pgid):
                return
            time.sleep(0.05)


@dataclass
class Child:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    @property
    def pid(self) -> int:
        return self.popen.pid


@dataclass
class ProcessGroups:
    """The children of one scenario; a context manager that stops them all on exit."""

    log_dir: Path
    children: dict[str, Child] = field(default_factory=dict)

    def __enter__(self) -> ProcessGroups:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        REGISTRY_DIR.mkdir(parents=True, exist_ok=True)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop_all()

    def start(
        self,
        name: str,
        argv: Sequence[str],
        *,
        env: dict[str, str],
        pass_fds: Sequence[int] = (),
    ) -> Child:
        if name in self.children:
            raise ValueError(f"a process named {name} is already running")
        log = self.log_dir / f"{name}.log"
        with log.open("ab") as out:
            popen = subprocess.Popen(
                list(argv),
                cwd=BASE_DIR,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                pass_fds=tuple(pass_fds),
            )
        (REGISTRY_DIR / str(popen.pid)).write_text(" ".join(argv[:4]))
        child = Child(name, popen, log)
        self.children[name] = child
        return child

    def stop(self, name: str) -> None:
        child = self.children.pop(name)
        stop_group(child.pid, leader=child.popen)
        with contextlib.suppress(subprocess.TimeoutExpired):
            child.popen.wait(timeout=1)
        (REGISTRY_DIR / str(child.pid)).unlink(missing_ok=True)

    def stop_all(self) -> None:
        for name in reversed(list(self.children)):
            self.stop(name)

    def check_alive(self) -> None:
        for child in self.children.values():
            if child.popen.poll() is not None:
                tail = child.log.read_text(errors="replace")[-2000:]
                raise RuntimeError(f"{child.name} exited with {child.popen.returncode}:\n{tail}")


def stop_leftovers() -> list[str]:
    """Stop the groups a crashed scenario process left in the registry; returns what was stopped."""
    stopped: list[str] = []
    if not REGISTRY_DIR.exists():
        return stopped
    for entry in REGISTRY_DIR.iterdir():
        if not entry.name.isdigit():
            continue
        pgid = int(entry.name)
        recorded = entry.read_text()
        try:
            cmdline = Path(f"/proc/{pgid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            cmdline = ""
        # Only a process that still runs what we started (pids are reused).
        if cmdline.startswith(recorded.split(" ")[0]) and _group_alive(pgid):
            stop_group(pgid)
            stopped.append(recorded)
        entry.unlink(missing_ok=True)
    return stopped


def log_contains(path: Path, text: str) -> bool:
    try:
        return text in path.read_text(errors="replace")
    except FileNotFoundError:
        return False
