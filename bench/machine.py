"""Facts about the machine and the software, recorded with every run."""

from __future__ import annotations

import os
import platform
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime

import redis

from bench.config import BASE_DIR
from bench.context import REDIS_URL
from bench.database import server_version


@dataclass(frozen=True)
class Machine:
    date: str
    cores: int
    memory_gib: float
    cpu_model: str
    load_start: tuple[float, float, float]
    python: str
    postgresql: str
    redis: str
    commit: str
    kernel: str


def _cpu_model() -> str:
    try:
        for line in open("/proc/cpuinfo", encoding="utf-8"):  # noqa: SIM115 - read once, closed at exit
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_gib() -> float:
    try:
        with open("/proc/meminfo", encoding="utf-8") as meminfo:
            for line in meminfo:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) / 2**20
    except OSError:
        pass
    return float("nan")


def _commit() -> str:
    def git(*args: str) -> str:
        result = subprocess.run(["git", *args], cwd=BASE_DIR, capture_output=True, text=True, check=False)
        return result.stdout.strip()

    head = git("rev-parse", "--short", "HEAD") or "unknown"
    return f"{head} (with uncommitted changes)" if git("status", "--porcelain", "--untracked-files=no") else head


def _redis_version() -> str:
    try:
        info = redis.Redis.from_url(REDIS_URL).info("server")
    except redis.RedisError:
        return "unknown"
    return str(info.get("redis_version", "unknown"))


def load_average() -> tuple[float, float, float]:
    return os.getloadavg()


def machine_facts() -> Machine:
    return Machine(
        date=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        cores=os.cpu_count() or 0,
        memory_gib=_memory_gib(),
        cpu_model=_cpu_model(),
        load_start=load_average(),
        python=platform.python_version(),
        postgresql=server_version(),
        redis=_redis_version(),
        commit=_commit(),
        kernel=platform.release(),
    )
