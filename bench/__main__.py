"""``python -m bench`` (``make bench``): run every scenario, then write docs/benchmarks.md.

The orchestrator does not import Django: each scenario runs in a child process
(``python -m bench.run``) with a fresh database of its own. The serving scenario runs first, since
its baseline figures are what every later scenario is compared with. Whatever happens (a failure,
Ctrl-C, SIGTERM), the orchestrator finally stops any process a scenario left running and drops the
run's databases.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import redis

from bench.config import DOC_PATH, SCENARIOS, VAR_DIR, Sizes
from bench.context import REDIS_URL, ScenarioReport
from bench.database import drop_run_databases
from bench.machine import load_average, machine_facts
from bench.processes import exit_on_sigterm, python, stop_leftovers
from bench.report import RunInfo, render

SCENARIO_TIMEOUT_SECONDS = 15 * 60


def _selected() -> list[str]:
    raw = os.environ.get("BENCH_ONLY", "").strip()
    if not raw:
        return list(SCENARIOS)
    chosen = {name.strip() for name in raw.split(",") if name.strip()}
    unknown = chosen - set(SCENARIOS)
    if unknown:
        raise SystemExit(f"BENCH_ONLY: unknown scenario(s) {', '.join(sorted(unknown))}; known: {', '.join(SCENARIOS)}")
    return [name for name in SCENARIOS if name in chosen or name == "serving"]


def _run_scenario(name: str, run_id: str, sizes: Sizes, baselines: dict[str, float]) -> ScenarioReport:
    out = VAR_DIR / run_id / f"{name}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "BENCH_SIZES": sizes.to_json(), "BENCH_BASELINES": json.dumps(baselines)}
    # Same process group as us: Ctrl-C reaches the child too, and it stops its own processes.
    child = subprocess.Popen(python("-m", "bench.run", name, "--out", str(out), "--run-id", run_id), env=env)
    try:
        code = child.wait(timeout=SCENARIO_TIMEOUT_SECONDS)
    except BaseException:
        child.terminate()
        try:
            child.wait(timeout=60)
        except subprocess.TimeoutExpired:
            child.kill()
        raise
    if code != 0 or not out.exists():
        raise RuntimeError(f"exited with status {code}; logs in {out.parent / name / 'logs'}")
    return ScenarioReport.from_json(out.read_text())


def main() -> int:
    exit_on_sigterm()
    sizes = Sizes.from_environ()
    run_id = time.strftime("%m%d%H%M%S").lower()
    command = "BENCH_QUICK=1 make bench" if sizes.quick else "make bench"
    machine = machine_facts()
    started = time.monotonic()
    print(f"bench run {run_id}: {'quick' if sizes.quick else 'full'} sizes, load average {machine.load_start}")
    reports: list[ScenarioReport] = []
    failures: dict[str, str] = {}
    baselines: dict[str, float] = {}
    try:
        for name in _selected():
            print(f"== {name}", flush=True)
            scenario_started = time.monotonic()
            try:
                report = _run_scenario(name, run_id, sizes, baselines)
            except RuntimeError as exc:
                failures[name] = str(exc)
                print(f"   {name} failed: {exc}", flush=True)
                continue
            reports.append(report)
            baselines |= {
                k.removeprefix("baseline:"): v for k, v in report.figures.items() if k.startswith("baseline:")
            }
            print(f"   {name} done in {time.monotonic() - scenario_started:.0f} s", flush=True)
    finally:
        leftovers = stop_leftovers()
        dropped = drop_run_databases(run_id)
        redis.Redis.from_url(REDIS_URL).flushdb()
        if leftovers or dropped:
            print(f"cleaned up after a failed scenario: {len(leftovers)} process group(s), databases {dropped}")
    info = RunInfo(
        command=command,
        machine=machine,
        load_end=load_average(),
        minutes=(time.monotonic() - started) / 60,
        sizes=sizes,
        failures=failures,
    )
    DOC_PATH.write_text(render(info, reports), encoding="utf-8")
    print(f"wrote {DOC_PATH.relative_to(DOC_PATH.parents[1])} in {info.minutes:.1f} min")
    for report in reports:
        for target in report.targets:
            verdict = "met" if target.met else ("not measured" if target.met is None else "MISSED")
            print(f"  {verdict:>12}  {target.name}: {target.value}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
