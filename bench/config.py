"""Sizes and switches of a run, from the environment (``BENCH_QUICK=1`` for a smoke run)."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var" / "bench"
DOC_PATH = BASE_DIR / "docs" / "benchmarks.md"
SCENARIOS = ("serving", "ingest", "relay", "storm", "idle", "fanout", "faq", "search")


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise SystemExit(f"{name}: expected a positive whole number, got {raw!r}")
    return int(raw)


@dataclass(frozen=True)
class Sizes:
    """Everything that makes a run longer or heavier. Full-run defaults; ``quick()`` scales them down."""

    quick: bool = False
    repeats: int = 3
    # Throughput runs (wrk): connections, seconds per measured run, seconds of warm-up.
    wrk_connections: int = 16
    wrk_seconds: int = 5
    wrk_warmup_seconds: int = 1
    ingest_customers: int = 200
    routed_messages: int = 400
    # Human relay: customers, seats (half console, half IM app), seconds per rate.
    relay_customers: int = 60
    relay_seats: int = 12
    relay_seconds: int = 5
    relay_rates: tuple[int, ...] = (100, 300, 1000)
    relay_search_steps: int = 3
    # Assignment storm.
    storm_customers: int = 1000
    storm_seats: int = 50
    storm_capacity: int = 5
    storm_seconds: float = 1.0
    # Idle sweep: (idle, total) pairs; the first is the headline figure (the target's), the others show
    # how the cost follows the idle count and not the total.
    idle_cases: tuple[tuple[int, int], ...] = ((10_000, 100_000), (1_000, 100_000), (1_000, 20_000))
    # Console fan-out.
    fanout_consoles: int = 200
    # Rounds per second (in each round every console gets one event); the target is judged at the first.
    fanout_rounds: tuple[int, ...] = (1, 2, 4)
    fanout_seconds: int = 6
    # Worker concurrency: as in docs/deploy/wildfire-cs-worker.service.
    worker_concurrency: int = 4
    profile_seconds: int = 8
    # Who acts on a stored customer message (CS_INBOUND_DRAIN): "stream" (the inbound_stream process,
    # started with the stack) or "request" (the callback's request). BENCH_INBOUND_DRAIN picks it.
    inbound_drain: str = "stream"

    @classmethod
    def from_environ(cls) -> Sizes:
        sizes = cls.quick_sizes() if os.environ.get("BENCH_QUICK", "") in ("1", "true", "yes") else cls()
        sizes = sizes.with_overrides(repeats=_int("BENCH_REPEATS", sizes.repeats))
        drain = os.environ.get("BENCH_INBOUND_DRAIN", "").strip()
        if drain:
            if drain not in ("stream", "request"):
                raise SystemExit(f"BENCH_INBOUND_DRAIN: expected stream or request, got {drain!r}")
            sizes = replace(sizes, inbound_drain=drain)
        raw_cases = os.environ.get("BENCH_IDLE_CASES", "").strip()
        return replace(sizes, idle_cases=_idle_cases(raw_cases)) if raw_cases else sizes

    @classmethod
    def quick_sizes(cls) -> Sizes:
        return cls(
            quick=True,
            repeats=1,
            wrk_seconds=4,
            wrk_warmup_seconds=1,
            ingest_customers=100,
            routed_messages=300,
            relay_customers=30,
            relay_seats=6,
            relay_seconds=4,
            relay_rates=(100, 300),
            relay_search_steps=1,
            storm_customers=200,
            storm_seats=10,
            idle_cases=((200, 10_000), (200, 2_000), (100, 10_000)),
            fanout_consoles=40,
            fanout_rounds=(1, 4),
            fanout_seconds=4,
            profile_seconds=4,
        )

    def with_overrides(self, *, repeats: int) -> Sizes:
        return replace(self, repeats=repeats)

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> Sizes:
        values: dict[str, Any] = json.loads(text)
        return cls(**{f.name: _tupled(values[f.name]) for f in fields(cls)})


def _idle_cases(raw: str) -> tuple[tuple[int, int], ...]:
    """``idle:total,idle:total`` (e.g. ``10000:100000,10000:20000``)."""
    cases = []
    for item in raw.split(","):
        idle, _, total = item.partition(":")
        if not (idle.strip().isdigit() and total.strip().isdigit()) or int(idle) > int(total):
            raise SystemExit(f"BENCH_IDLE_CASES: expected idle:total pairs, got {item!r}")
        cases.append((int(idle), int(total)))
    return tuple(cases)


def _tupled(value: Any) -> Any:
    """JSON turns tuples into lists; the dataclass is frozen and hashable with tuples."""
    if isinstance(value, list):
        return tuple(_tupled(item) for item in value)
    return value
