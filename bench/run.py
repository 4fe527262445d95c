"""``python -m bench.run SCENARIO --out FILE``: one scenario in a process of its own.

The orchestrator (``python -m bench``) starts one of these per scenario, so each configures Django
for its own fresh database. Sizes and the baseline figures come in the environment
(``BENCH_SIZES``, ``BENCH_BASELINES``); the report goes to ``--out`` as JSON.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
from contextlib import ExitStack
from pathlib import Path

import redis

from bench.config import SCENARIOS, VAR_DIR, Sizes
from bench.context import REDIS_URL, Context, ScenarioReport, django_setup
from bench.database import fresh_database
from bench.processes import ProcessGroups, exit_on_sigterm
from bench.stack import plan_stack

# Scenarios that run the whole stack on a database of their own (the baseline brings its own).
STACK_SCENARIOS = ("ingest", "relay", "storm", "idle", "fanout", "search")
# Settings a scenario's stack needs beyond the production-like defaults.
EXTRA_ENV = {
    # The harness runs the idle sweep itself and times it; beat must not start one in between.
    "idle": {"CS_IDLE_SWEEP_SECONDS": "3600"},
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run")
    parser.add_argument("scenario", choices=SCENARIOS)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--run-id", default=f"p{os.getpid()}")
    args = parser.parse_args(argv)
    exit_on_sigterm()
    sizes = Sizes.from_json(os.environ["BENCH_SIZES"]) if "BENCH_SIZES" in os.environ else Sizes.from_environ()
    baselines = {key: float(value) for key, value in json.loads(os.environ.get("BENCH_BASELINES", "{}")).items()}
    var_dir = VAR_DIR / args.run_id / args.scenario
    redis.Redis.from_url(REDIS_URL).flushdb()  # the bench's own Redis database only
    with ProcessGroups(var_dir / "logs") as groups, ExitStack() as exits:
        plan = None
        if args.scenario in STACK_SCENARIOS:
            # One fresh database per scenario; Django in this process is configured like the stack's.
            database_url = exits.enter_context(fresh_database(f"bench_{args.run_id}_{args.scenario}"))
            plan = plan_stack(
                database_url=database_url,
                redis_url=REDIS_URL,
                var_dir=var_dir,
                extra_env=EXTRA_ENV.get(args.scenario, {}) | {"CS_INBOUND_DRAIN": sizes.inbound_drain},
            )
            django_setup(plan.env)
        module = importlib.import_module(f"bench.scenarios.{args.scenario}")
        context = Context(
            run_id=args.run_id,
            name=args.scenario,
            sizes=sizes,
            groups=groups,
            var_dir=var_dir,
            baselines=baselines,
            profile=os.environ.get("BENCH_PROFILE", "1") != "0",
            plan=plan,
        )
        report: ScenarioReport = module.run(context)
    args.out.write_text(report.to_json())
    return 0


if __name__ == "__main__":
    sys.exit(main())
