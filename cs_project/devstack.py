"""Runs the demo's processes in the foreground and stops every one of them on exit.

Each child gets its own process group, so Ctrl-C (SIGINT to our group) and SIGTERM both end
in one place: every group is sent SIGTERM, given a few seconds, then SIGKILL.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from types import FrameType


@dataclass
class ProcessGroup:
    children: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def start(self, name: str, argv: Sequence[str], env: dict[str, str] | None = None) -> None:
        self.children[name] = subprocess.Popen(  # noqa: S603 - argv built by us from sys.executable
            list(argv), start_new_session=True, env={**os.environ, **(env or {})}
        )

    def first_exited(self) -> tuple[str, int] | None:
        for name, child in self.children.items():
            code = child.poll()
            if code is not None:
                return name, code
        return None

    def stop_all(self, grace_seconds: float = 8.0) -> None:
        for child in self.children.values():
            _signal_group(child, signal.SIGTERM)
        deadline = time.monotonic() + grace_seconds
        for child in self.children.values():
            try:
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _signal_group(child, signal.SIGKILL)
                child.wait()
        # A child's own children (Celery's pool processes) may outlive it briefly.
        for child in self.children.values():
            _signal_group(child, signal.SIGKILL)


def _signal_group(child: subprocess.Popen[bytes], signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(child.pid, signum)


class Interrupted(Exception):
    pass


def raise_on_termination() -> None:
    """Turn SIGTERM and SIGINT into one exception, so cleanup runs in a single ``finally``."""

    def _raise(signum: int, frame: FrameType | None) -> None:
        raise Interrupted(signal.Signals(signum).name)

    signal.signal(signal.SIGTERM, _raise)
    signal.signal(signal.SIGINT, _raise)


def python_module(module: str, *args: str) -> list[str]:
    return [sys.executable, "-m", module, *args]
