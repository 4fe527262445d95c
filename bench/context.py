"""What a scenario gets (``Context``) and what it hands back (``ScenarioReport``)."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

import django

from bench.config import Sizes
from bench.database import fresh_database
from bench.processes import ProcessGroups
from bench.stack import Stack, StackPlan, start_stack

# Redis database of the bench: apart from the test suite's (5) and the demo's (0); flushed per scenario.
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/12")
# Serving modes of the comparison, by key: ASGI processes and whether the psycopg pool is on.
MODES: dict[str, tuple[int, bool]] = {"1-pool": (1, True), "1-nopool": (1, False), "2-pool": (2, True)}
# The mode scenarios 1-4 run in: one Daphne process with the pool, so their figures are per process.
# Two processes sharing a socket balance connections, not requests (see bench/analysis.md).
DEFAULT_MODE = os.environ.get("BENCH_MODE", "1-pool")


@dataclass(frozen=True)
class Target:
    name: str
    goal: str
    value: str
    met: bool | None  # None: not measured (the note says why)


@dataclass
class ScenarioReport:
    name: str
    title: str
    markdown: str
    targets: list[Target] = field(default_factory=list)
    figures: dict[str, float] = field(default_factory=dict)  # what later scenarios may quote

    def to_json(self) -> str:
        return json.dumps(asdict(self), allow_nan=True)

    @classmethod
    def from_json(cls, text: str) -> ScenarioReport:
        raw = json.loads(text)
        return cls(
            name=raw["name"],
            title=raw["title"],
            markdown=raw["markdown"],
            targets=[Target(**target) for target in raw["targets"]],
            figures={key: float(value) for key, value in raw["figures"].items()},
        )


@dataclass
class Context:
    run_id: str
    name: str
    sizes: Sizes
    groups: ProcessGroups
    var_dir: Path
    baselines: dict[str, float]  # requests/s of the baseline per serving mode, from the serving scenario
    profile: bool = True
    plan: StackPlan | None = None

    def stack_plan(self) -> StackPlan:
        if self.plan is None:
            raise RuntimeError(f"scenario {self.name} has no stack plan (see bench.run.STACK_SCENARIOS)")
        return self.plan

    def start_stack(self, *, asgi_processes: int | None = None) -> Stack:
        return start_stack(
            self.groups,
            self.stack_plan(),
            asgi_processes=asgi_processes or self.asgi_processes,
            worker_concurrency=self.sizes.worker_concurrency,
        )

    @property
    def mode(self) -> str:
        return DEFAULT_MODE

    @property
    def asgi_processes(self) -> int:
        return MODES[self.mode][0]

    def baseline(self, mode: str | None = None) -> float:
        return self.baselines.get(mode or self.mode, math.nan)

    @contextmanager
    def database(self, suffix: str = "") -> Iterator[str]:
        name = f"bench_{self.run_id}_{self.name}{'_' + suffix if suffix else ''}"
        with fresh_database(name) as url:
            yield url


def django_setup(env: dict[str, str]) -> None:
    """Configure Django in this process exactly as the stack's processes are (same environment)."""
    os.environ.update(env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cs_project.settings")
    django.setup()
