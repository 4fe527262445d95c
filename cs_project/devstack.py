"""Runs the demo's processes in the foreground and stops every one of them on exit.

Each child gets its own process group, so Ctrl-C (SIGINT to our group) and SIGTERM both end
in one place: every group is sent SIGTERM, given a few seconds, then SIGKILL.

Each child's output goes whole to its own log file; the terminal gets only what a person at it
needs: warnings, errors and tracebacks, prefixed with the process's name (everything with
``verbose``).
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import IO

# A log line worth showing: a level of WARNING or above as our, Celery's, Daphne's and aiohttp's
# formats write it, or the start of a traceback.
_NOTEWORTHY = re.compile(r"\b(WARNING|ERROR|CRITICAL|FATAL|PANIC)\b|^Traceback \(most recent call last\)")


class NoteworthyLines:
    """Says which lines of one process's output belong on the terminal (a whole traceback, once begun)."""

    def __init__(self) -> None:
        self._in_traceback = False

    def __call__(self, line: str) -> bool:
        if self._in_traceback:
            # A traceback's frames are indented; its first unindented line is the exception itself.
            self._in_traceback = line[:1].isspace()
            return True
        if line.startswith("Traceback (most recent call last)"):
            self._in_traceback = True
            return True
        return _NOTEWORTHY.search(line) is not None


@dataclass
class _Child:
    process: subprocess.Popen[bytes]
    pump: threading.Thread


@dataclass
class ProcessGroup:
    log_dir: Path
    verbose: bool = False
    say: Callable[[str], None] = field(default=lambda text: print(text, flush=True))  # noqa: T201 - the terminal
    children: dict[str, _Child] = field(default_factory=dict)

    def start(self, name: str, argv: Sequence[str], env: dict[str, str] | None = None) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log_path = self.log_dir / f"{name}.log"
        process = subprocess.Popen(  # noqa: S603 - argv built by us from sys.executable
            list(argv),
            start_new_session=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        assert process.stdout is not None  # noqa: S101 - set by stdout=PIPE above
        pump = threading.Thread(
            target=self._pump, args=(name, process.stdout, log_path), name=f"log-{name}", daemon=True
        )
        pump.start()
        self.children[name] = _Child(process, pump)
        self.say(f"  started {name:<9} pid {process.pid:<7} log {log_path}")

    def _pump(self, name: str, stream: IO[bytes], log_path: Path) -> None:
        shown = NoteworthyLines()
        with log_path.open("ab") as log:
            for raw in iter(stream.readline, b""):
                log.write(raw)
                log.flush()
                line = raw.decode("utf-8", errors="replace").rstrip("\n")
                if self.verbose or shown(line):
                    self.say(f"[{name}] {line}")

    def first_exited(self) -> tuple[str, int] | None:
        for name, child in self.children.items():
            code = child.process.poll()
            if code is not None:
                return name, code
        return None

    def stop_all(self, grace_seconds: float = 8.0) -> None:
        for child in self.children.values():
            _signal_group(child.process, signal.SIGTERM)
        deadline = time.monotonic() + grace_seconds
        for name, child in self.children.items():
            try:
                child.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _signal_group(child.process, signal.SIGKILL)
                child.process.wait()
            self.say(f"  stopped {name}")
        # A child's own children (Celery's pool processes) may outlive it briefly.
        for child in self.children.values():
            _signal_group(child.process, signal.SIGKILL)
            child.pump.join(timeout=2)


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
