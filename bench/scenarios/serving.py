"""The baseline, in each serving mode: the yardstick of every throughput in the report.

A minimal Django view (``bench.baseline``) that parses a callback-shaped body and inserts one row,
served by ``python -m cs_project.asgi_server`` exactly like the CS server. Measured with wrk in
three modes: one Daphne process with psycopg's pool (as deployed), one without the pool, and two
Daphne processes sharing one socket. Modes are interleaved run by run, so drift in the machine's
load spreads over all of them.
"""

from __future__ import annotations

import secrets

from bench.context import MODES, REDIS_URL, Context, ScenarioReport
from bench.processes import free_port
from bench.stack import manage, start_asgi, stop_asgi
from bench.stats import median, spread
from bench.wrk import WrkResult, run_wrk, write_script

BASELINE_APP = "bench.baseline.asgi:application"


def run(ctx: Context) -> ScenarioReport:
    sizes = ctx.sizes
    runs: dict[str, list[WrkResult]] = {mode: [] for mode in MODES}
    with ctx.database() as database_url:
        env = {
            **_base_env(),
            "DJANGO_SETTINGS_MODULE": "bench.baseline.settings",
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(48),
            "DATABASE_URL": database_url,
            "REDIS_URL": REDIS_URL,
            "CS_VAR_DIR": str(ctx.var_dir),
        }
        manage(env, "migrate", "--run-syncdb", "-v0")
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        for repeat in range(sizes.repeats):
            for mode, (processes, pool) in MODES.items():
                mode_env = env | {"BENCH_BASELINE_POOL": "1" if pool else "0"}
                asgi = start_asgi(
                    ctx.groups, env=mode_env, port=port, processes=processes, app=BASELINE_APP, name="baseline"
                )
                try:
                    for seconds in (sizes.wrk_warmup_seconds, sizes.wrk_seconds):  # warm-up, then the run
                        script = write_script(
                            ctx.var_dir, path="/wfc/callback/cs_robot?k=x", prefix="b", customers=1000
                        )
                        result = run_wrk(url, script=script, seconds=seconds, connections=sizes.wrk_connections)
                finally:
                    stop_asgi(ctx.groups, asgi)
                runs[mode].append(result)
                print(f"  baseline {mode} run {repeat + 1}: {result.ok_per_second:,.0f} req/s", flush=True)
    figures = {mode: median([r.ok_per_second for r in results]) for mode, results in runs.items()}
    return ScenarioReport(
        name="serving",
        title="The baseline in each serving mode",
        markdown=_render(runs, ctx),
        figures={f"baseline:{mode}": value for mode, value in figures.items()},
    )


def _base_env() -> dict[str, str]:
    import os

    return {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "CS_", "BENCH_"))}


MODE_LABELS = {
    "1-pool": "1 Daphne process, psycopg pool",
    "1-nopool": "1 Daphne process, no pool (a connection per request)",
    "2-pool": "2 Daphne processes (one per core) on one socket, pool",
}


def _render(runs: dict[str, list[WrkResult]], ctx: Context) -> str:
    sizes = ctx.sizes
    lines = [
        "The baseline view (`bench/baseline/`) parses the callback body and inserts one row with the ORM; no "
        "middleware. It is served by `python -m cs_project.asgi_server` with the CS server's database settings "
        f"(`cs_project.env.env_database`, pool of 10). wrk: {sizes.wrk_connections} connections, 2 threads, "
        f"{sizes.wrk_seconds} s per run after {sizes.wrk_warmup_seconds} s of warm-up; the same Lua script as "
        "the ingest scenario (a unique, correctly formed callback per request).",
        "",
        "| serving mode | requests/s, median (min–max) | p50 latency ms | p99 latency ms | failed |",
        "|---|---|---|---|---|",
    ]
    for mode, results in runs.items():
        lines.append(
            f"| {MODE_LABELS[mode]} | {spread([r.ok_per_second for r in results])} "
            f"| {median([r.p50_ms for r in results]):.1f} | {median([r.p99_ms for r in results]):.1f} "
            f"| {sum(r.failed for r in results)} |"
        )
    return "\n".join(lines)
