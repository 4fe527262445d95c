"""Scenario 1: callback ingest, customers in bot mode sending as fast as the IM side can post.

Direct: wrk posts correctly formed callbacks (unique ``messageId``s, spread over customers who
already have a bot-mode session) with the CS Robot's token from ``wfc_setup``. Every callback is
stored, acted on (transcript, session timers) and answered by the bot through Celery and the
outbox; the worker's answers are timed separately (the drain after each run).
Through the sandbox: customers' clients send via ``/sandbox/api/client/send`` and the sandbox posts
the callbacks as the IM server does (at most 5 in flight per host, §5.2).
The serving comparison repeats the direct run with the CS server in each serving mode.
"""

from __future__ import annotations

import asyncio
import time

from bench import cs
from bench.context import MODES, Context, ScenarioReport, Target
from bench.im import UNLIMITED_ROBOT_RATE, SandboxClient, gather_limited, http_session
from bench.profiling import profile_processes
from bench.scenarios.serving import MODE_LABELS
from bench.stack import NOPOOL_SETTINGS, Stack, restart_asgi
from bench.stats import fmt_rate, fmt_ratio, median, spread
from bench.wrk import WrkResult, run_wrk, write_script

PREFIX = "ingest-c"
DRAIN_TIMEOUT = 60.0


def _inbound_count() -> int:
    from robots.models import InboundMessage

    return InboundMessage.objects.count()


async def _prepare(stack: Stack, customers: int) -> None:
    """Customers exist on the IM server, the robot limit is out of the way, each has a bot session."""
    async with http_session() as session:
        sandbox = SandboxClient(stack.sandbox.robot_url, session)
        await sandbox.configure(robotRateLimit=UNLIMITED_ROBOT_RATE)
        await sandbox.create_users([f"{PREFIX}{number}" for number in range(customers)])
        await gather_limited(
            [
                sandbox.send_text(sender=f"{PREFIX}{number}", target="cs_robot", text="你好")
                for number in range(customers)
            ],
            limit=5,
        )


async def _routed(stack: Stack, messages: int, customers: int) -> float:
    """Callbacks/s when the sandbox routes customers' messages: from the first send to the last stored."""
    before = await asyncio.to_thread(_inbound_count)
    async with http_session() as session:
        sandbox = SandboxClient(stack.sandbox.robot_url, session)
        started = time.monotonic()
        await gather_limited(
            [
                sandbox.send_text(sender=f"{PREFIX}{number % customers}", target="cs_robot", text=f"routed {number}")
                for number in range(messages)
            ],
            limit=16,
        )
        deadline = started + DRAIN_TIMEOUT
        while await asyncio.to_thread(_inbound_count) < before + messages and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        elapsed = time.monotonic() - started
        stored = await asyncio.to_thread(_inbound_count) - before
    return stored / elapsed


def _serve(stack: Stack, mode: str) -> None:
    processes, pool = MODES[mode]
    restart_asgi(stack, processes=processes, settings_module=None if pool else NOPOOL_SETTINGS)


def run(ctx: Context) -> ScenarioReport:
    sizes = ctx.sizes
    stack = ctx.start_stack()
    path = cs.callback_path(cs.cs_robot_token())
    asyncio.run(_prepare(stack, sizes.ingest_customers))
    cs.wait_for_quiet(timeout=DRAIN_TIMEOUT)

    def wrk(seconds: int) -> WrkResult:
        script = write_script(ctx.var_dir, path=path, prefix=PREFIX, customers=sizes.ingest_customers)
        return run_wrk(stack.url, script=script, seconds=seconds, connections=sizes.wrk_connections)

    runs: dict[str, list[WrkResult]] = {mode: [] for mode in MODES}
    drains: list[float] = []
    mismatches = 0
    current = ctx.mode
    for repeat in range(sizes.repeats):
        for mode in MODES:
            if mode != current:
                _serve(stack, mode)
                current = mode
            wrk(sizes.wrk_warmup_seconds)
            cs.settle()
            before = _inbound_count()
            result = wrk(sizes.wrk_seconds)
            # wrk stops with requests in flight: those are stored but not counted as answered.
            extra = _inbound_count() - before - (result.requests - result.failed)
            mismatches += 0 if 0 <= extra <= sizes.wrk_connections else 1
            if mode == ctx.mode:
                # Answers/s: the worker's whole job for this run, over ingest plus the drain after it.
                started = time.monotonic()
                if cs.wait_for_quiet(timeout=DRAIN_TIMEOUT) is not None:
                    answered = result.requests - result.failed
                    drains.append(answered / (result.seconds + time.monotonic() - started))
            cs.settle()
            runs[mode].append(result)
            print(f"  ingest {mode} run {repeat + 1}: {result.ok_per_second:,.0f} callbacks/s", flush=True)
    if current != ctx.mode:
        _serve(stack, ctx.mode)
    routed = []
    for _repeat in range(sizes.repeats):
        routed.append(asyncio.run(_routed(stack, sizes.routed_messages, sizes.ingest_customers)))
        cs.settle()
    ingest = median([r.ok_per_second for r in runs[ctx.mode]])
    profile = ""
    if ctx.profile and ingest < 0.6 * ctx.baseline():
        profile = profile_processes(
            ctx,
            stack,
            label="ingest",
            names=stack.asgi.names if stack.asgi else [],
            load=wrk,
        )
    target = Target(
        name="Callback ingest ≥ 60% of the baseline",
        goal="≥ 0.60×",
        value=f"{fmt_rate(ingest)} callbacks/s = {fmt_ratio(ingest, ctx.baseline())} of {fmt_rate(ctx.baseline())}",
        met=ingest >= 0.6 * ctx.baseline(),
    )
    return ScenarioReport(
        name="ingest",
        title="1. Callback ingest",
        markdown=_render(ctx, runs, routed, drains, profile, mismatches=mismatches),
        targets=[target],
        figures={
            "ingest": ingest,
            **{f"ingest:{mode}": median([r.ok_per_second for r in rs]) for mode, rs in runs.items()},
        },
    )


def _render(
    ctx: Context,
    runs: dict[str, list[WrkResult]],
    routed: list[float],
    drains: list[float],
    profile: str,
    *,
    mismatches: int,
) -> str:
    sizes = ctx.sizes
    main = [r.ok_per_second for r in runs[ctx.mode]]
    lines = [
        f"{sizes.ingest_customers} customers, each with an open bot-mode session (one message each first). wrk, "
        f"{sizes.wrk_connections} connections, {sizes.wrk_seconds} s runs after {sizes.wrk_warmup_seconds} s of "
        "warm-up, posts unique, correctly formed callbacks with the CS Robot's token to "
        "`/wfc/callback/cs_robot?k=…`. The sandbox's robot rate limit is raised "
        f"(`robotRateLimit` {UNLIMITED_ROBOT_RATE:,}) so the bot's answers are not throttled by the IM side. "
        "After every run the rows stored were checked against the callbacks answered"
        + (
            " (all matched)."
            if not mismatches
            else f" (**{mismatches} run(s) did not match: some answers were not stored once each**)."
        ),
        "",
        "| measure | value | vs baseline |",
        "|---|---|---|",
        f"| accepted callbacks/s, direct (wrk), median (min–max) | {spread(main)} "
        f"| {fmt_ratio(median(main), ctx.baseline())} |",
        f"| accepted callbacks/s through the sandbox's routing (≤ 5 in flight, §5.2), {sizes.routed_messages} "
        f"messages | {spread(routed)} | {fmt_ratio(median(routed), ctx.baseline())} |",
        f"| bot answers delivered/s (ingest and the worker's drain after it) | {spread(drains)} "
        f"| {fmt_ratio(median(drains), ctx.baseline())} |",
        "",
        "Serving modes (the CS server restarted in each, same database and worker):",
        "",
        "| serving mode | CS callbacks/s | baseline requests/s | CS / baseline | CS p99 ms |",
        "|---|---|---|---|---|",
    ]
    for mode, results in runs.items():
        value = median([r.ok_per_second for r in results])
        lines.append(
            f"| {MODE_LABELS[mode]} | {spread([r.ok_per_second for r in results])} | {fmt_rate(ctx.baseline(mode))} "
            f"| {fmt_ratio(value, ctx.baseline(mode))} | {median([r.p99_ms for r in results]):.0f} |"
        )
    if profile:
        lines += ["", profile]
    return "\n".join(lines)
