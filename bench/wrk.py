"""Throughput runs with wrk: every request a correctly formed, unique robot callback (§5.3).

A generated Lua script gives each request a new ``messageId`` (so none is a duplicate) and spreads
the senders over ``customers`` ids; its ``done`` hook prints one JSON line that we parse.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

SCRIPT = """
local path = "%(path)s"
local prefix = "%(prefix)s"
local customers = %(customers)d
local base = %(base)d
local threads = {}
local counter = 0
local headers = {["Content-Type"] = "application/json; charset=utf-8"}

function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

function request()
  counter = counter + 1
  local id = base + tid * 5000 + counter
  local sender = prefix .. ((counter * 7 + tid) %% customers)
  local body = string.format(
    '{"messageId": %%d, "sender": "%%s", "conv": {"type": 0, "target": "%(robot)s", "line": 0}, ' ..
    '"payload": {"type": 1, "searchableContent": "bench %%d", "pushContent": "", "pushData": "", ' ..
    '"content": "", "mediaType": 0, "remoteMediaUrl": "", "persistFlag": 3, "expireDuration": 0, ' ..
    '"mentionedType": 0, "mentionedTarget": [], "extra": ""}, "toUsers": [], "timestamp": %%d}',
    id, sender, counter, os.time() * 1000)
  return wrk.format("POST", path, headers, body)
end

function done(summary, latency, requests)
  io.write(string.format(
    'WRKJSON {"duration_us": %%d, "requests": %%d, "connect": %%d, "read": %%d, "write": %%d, ' ..
    '"status": %%d, "timeout": %%d, "p50_us": %%d, "p99_us": %%d}\\n',
    summary.duration, summary.requests, summary.errors.connect, summary.errors.read, summary.errors.write,
    summary.errors.status, summary.errors.timeout, latency:percentile(50), latency:percentile(99)))
end
"""


@dataclass(frozen=True)
class WrkResult:
    seconds: float
    requests: int
    failed: int  # non-2xx answers, socket errors and timeouts
    p50_ms: float
    p99_ms: float

    @property
    def ok_per_second(self) -> float:
        return (self.requests - self.failed) / self.seconds if self.seconds > 0 else 0.0


def wrk_path() -> str:
    path = shutil.which("wrk")
    if path is None:
        raise RuntimeError("wrk is not installed (make bench installs it: apt-get install wrk)")
    return path


# Message ids: 10,000 per millisecond since 2026 (5,000 per wrk thread), so runs started at least a
# millisecond apart never reuse an id; small enough to stay exact in LuaJIT's doubles (< 2^53).
ID_EPOCH_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z


def write_script(directory: Path, *, path: str, prefix: str, customers: int, robot: str = "cs_robot") -> Path:
    """A fresh Lua script for one wrk run: its ids start after every earlier run's."""
    time.sleep(0.002)
    base = (int(time.time() * 1000) - ID_EPOCH_MS) * 10_000
    script = directory / f"callbacks-{base}.lua"
    values = {"path": path, "prefix": prefix, "customers": customers, "base": base, "robot": robot}
    script.write_text(SCRIPT % values)
    return script


def run_wrk(url: str, *, script: Path, seconds: int, connections: int, threads: int = 2) -> WrkResult:
    """One wrk run against ``url`` (the path comes from the script); bounded by ``seconds``."""
    argv = [
        wrk_path(),
        f"-t{threads}",
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout",
        "10s",
        "-s",
        str(script),
        url,
    ]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60, check=True).stdout
    line = next((line for line in out.splitlines() if line.startswith("WRKJSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no summary:\n{out}")
    raw = json.loads(line.removeprefix("WRKJSON "))
    failed = raw["connect"] + raw["read"] + raw["write"] + raw["status"] + raw["timeout"]
    return WrkResult(
        seconds=raw["duration_us"] / 1e6,
        requests=raw["requests"],
        failed=failed,
        p50_ms=raw["p50_us"] / 1000,
        p99_ms=raw["p99_us"] / 1000,
    )
