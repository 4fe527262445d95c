"""Where the time goes when a target is missed: ``py-spy record`` on the running processes, summarised.

py-spy samples the live processes (no restart, no instrumentation) while the scenario's load runs
again. The raw (collapsed-stack) output is kept next to the logs; the summary groups the samples by
what the innermost frame belongs to, and lists the project functions with the most samples.
"""

from __future__ import annotations

import collections
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from bench.config import BASE_DIR

if TYPE_CHECKING:
    from bench.context import Context
    from bench.stack import Stack

SAMPLE_RATE = 100
PROJECT_DIRS = ("robots/", "sessions_app/", "seats/", "cs_project/", "ratings/")
# Innermost frame's file → what it stands for; the first match wins.
CATEGORIES = (
    ("psycopg", "PostgreSQL driver (psycopg), incl. waiting for the server"),
    ("django/db/", "Django ORM (query building, model instances)"),
    ("asgiref/", "sync↔async hand-off (asgiref threads)"),
    ("concurrent/futures", "sync↔async hand-off (asgiref threads)"),
    ("threading.py", "sync↔async hand-off (asgiref threads)"),
    ("twisted/", "Daphne/Twisted (HTTP and websocket protocol)"),
    ("daphne/", "Daphne/Twisted (HTTP and websocket protocol)"),
    ("autobahn/", "Daphne/Twisted (HTTP and websocket protocol)"),
    ("channels_redis/", "Redis: channel layer, Celery broker, cache"),
    ("redis/", "Redis: channel layer, Celery broker, cache"),
    ("kombu/", "Celery (kombu, task protocol)"),
    ("celery/", "Celery (kombu, task protocol)"),
    ("billiard/", "Celery (kombu, task protocol)"),
    ("logging/", "logging"),
    ("json/", "JSON"),
    ("requests/", "HTTP client to the IM server (requests/urllib3)"),
    ("urllib3/", "HTTP client to the IM server (requests/urllib3)"),
    ("http/client", "HTTP client to the IM server (requests/urllib3)"),
    ("asyncio/", "asyncio event loop"),
    ("selectors.py", "asyncio event loop"),
    ("django/", "Django (request handling, signals, other)"),
)


def pyspy_path() -> str | None:
    return shutil.which("py-spy") or (str(Path(sys.executable).parent / "py-spy") if _venv_pyspy() else None)


def _venv_pyspy() -> bool:
    return (Path(sys.executable).parent / "py-spy").exists()


def _category(frame: str) -> str:
    location = frame.rpartition("(")[2]
    if location.startswith(PROJECT_DIRS):
        return "project code"
    for marker, name in CATEGORIES:
        if marker in location:
            return name
    return "other (interpreter, stdlib)"


def _is_project_function(frame: str) -> bool:
    """A frame of the project's own code, not its entry points (they are in every stack)."""
    function, _, location = frame.rpartition(" (")
    return location.startswith(PROJECT_DIRS) and function not in ("<module>", "main")


def _without_line(frame: str) -> str:
    """``f (path.py:12)`` → ``f (path.py)``: a function counts once, whichever line was running."""
    function, _, location = frame.rpartition(" (")
    return f"{function} ({location.rpartition(':')[0]})"


def summarise(raw: Path, *, top: int = 12) -> tuple[int, list[tuple[str, float]], list[tuple[str, float]]]:
    """Samples, the share per category (innermost frame), and project functions by inclusive share."""
    by_category: collections.Counter[str] = collections.Counter()
    project: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not count_text.isdigit() or not stack:
            continue
        count = int(count_text)
        frames = stack.split(";")
        total += count
        by_category[_category(frames[-1])] += count
        for function in {_without_line(frame) for frame in frames if _is_project_function(frame)}:
            project[function] += count
    if total == 0:
        return 0, [], []
    categories = [(name, count / total) for name, count in by_category.most_common()]
    functions = [(name, count / total) for name, count in project.most_common(top)]
    return total, categories, functions


def profile_processes(
    ctx: Context,
    stack: Stack,
    *,
    label: str,
    names: list[str],
    load: Callable[[int], object],
) -> str:
    """Record ``names`` (stack process names) while ``load(seconds)`` runs; a markdown summary."""
    executable = pyspy_path()
    if executable is None:
        return "_py-spy is not installed: no profile._"
    seconds = ctx.sizes.profile_seconds
    recordings: list[tuple[str, Path, subprocess.Popen[bytes]]] = []
    slug = re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")
    for name in names:
        raw = ctx.var_dir / f"profile-{slug}-{name}.txt"
        argv = [executable, "record", "-p", str(stack.pid(name)), "-d", str(seconds), "-r", "100", "-f", "raw"]
        argv += ["-o", str(raw), "--nonblocking", "--gil"]
        if name.startswith("worker"):
            argv.append("--subprocesses")
        with raw.with_suffix(".log").open("wb") as log:
            popen = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
        recordings.append((name, raw, popen))
    try:
        load(seconds)
    finally:
        for _name, _raw, popen in recordings:
            try:
                popen.wait(timeout=seconds + 30)
            except subprocess.TimeoutExpired:
                popen.kill()
    return "\n\n".join(_render(label, name, raw, seconds) for name, raw, _popen in recordings)


def profile_self(ctx: Context, *, label: str, work: Callable[[], object]) -> str:
    """Record this process while ``work()`` runs (py-spy stops and writes on SIGINT)."""
    executable = pyspy_path()
    if executable is None:
        return "_py-spy is not installed: no profile._"
    raw = ctx.var_dir / "profile-harness.txt"
    argv = [executable, "record", "-p", str(os.getpid()), "-r", "100", "-f", "raw", "-o", str(raw), "--nonblocking"]
    argv.append("--gil")
    with raw.with_suffix(".log").open("wb") as log:
        popen = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
    started = time.monotonic()
    try:
        time.sleep(1)  # py-spy attaches
        work()
    finally:
        popen.send_signal(signal.SIGINT)
        try:
            popen.wait(timeout=30)
        except subprocess.TimeoutExpired:
            popen.kill()
    return _render(label, "the harness process running it", raw, time.monotonic() - started)


def _render(label: str, name: str, raw: Path, seconds: float) -> str:
    if not raw.exists():
        why = raw.with_suffix(".log").read_text(errors="replace").strip().splitlines()[:1]
        return f"_py-spy recorded nothing for {name} during {label}: {why[0] if why else 'no output'}._"
    total, categories, functions = summarise(raw)
    if total == 0:
        return f"_{name} ran no Python during {label}: no request reached it._"
    lines = [
        f"**Profile: {name} during {label}** (py-spy `--gil`, 100 Hz: {total:,} samples of the thread holding "
        f"the GIL, i.e. of Python running: {total / (SAMPLE_RATE * seconds):.0%} of the {seconds:.0f} s recorded, "
        f"over 100% when several processes are recorded; raw stacks in `{raw.relative_to(BASE_DIR)}`)",
        "",
        "| where the innermost frame is | share of samples |",
        "|---|---|",
        *(f"| {category} | {share:.0%} |" for category, share in categories if share >= 0.01),
        "",
        "| project function (inclusive) | share |",
        "|---|---|",
        *(f"| `{function}` | {share:.0%} |" for function, share in functions),
    ]
    return "\n".join(lines)
