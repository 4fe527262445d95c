"""Scenarios 2 and 6: human relay at fixed rates, then the processes' resident memory.

Half the seats work from the console (websocket, no IM account), half from the Wildfire app
(an IM account, answering the customers' shadows, no console). Every customer asks for a human
through the sandbox and is assigned by the product; then both sides talk (see bench/conversation).
The rate is the total of both directions. The robot rate limit is raised: every reply leaves
through the one CS Robot, whose default bucket (§2.5) would cap replies at 100/s.
"""

from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass

import aiohttp
import psutil

from bench import cs
from bench.consoles import Console, close_consoles, connect_consoles, console_session
from bench.context import Context, ScenarioReport, Target
from bench.conversation import PATHS, Pair, RateRun, Tracker, talk
from bench.im import UNLIMITED_ROBOT_RATE, SandboxClient, gather_limited, http_session
from bench.processes import wait_until
from bench.profiling import profile_processes
from bench.stack import Stack
from bench.stats import Latency, fmt_ms, fmt_rate, fmt_ratio, median

SUSTAINED_P99_MS = 200.0
TARGET_P99_MS = 100.0
TARGET_RATE = 300


def _assigned_pairs(customers: list[str]) -> list[Pair]:
    from sessions_app.models import ServiceSession

    rows = ServiceSession.objects.filter(
        customer__im_user_id__in=customers, state=ServiceSession.State.HUMAN
    ).values_list("customer__im_user_id", "pk", "seat_id", "seat__im_user_id")
    return [Pair(customer, session_id, seat_id, im or "") for customer, session_id, seat_id, im in rows]


@dataclass
class Talkers:
    pairs: list[Pair]
    consoles: list[Console]
    session: aiohttp.ClientSession  # holds the consoles' websockets


async def _setup(ctx: Context, stack: Stack, sandbox: SandboxClient, tracker: Tracker) -> Talkers:
    sizes = ctx.sizes
    await sandbox.configure(robotRateLimit=UNLIMITED_ROBOT_RATE)
    capacity = math.ceil(sizes.relay_customers / sizes.relay_seats) + 1
    half = sizes.relay_seats // 2
    console_seats = await asyncio.to_thread(
        cs.seats_create, prefix="relay-con", count=half, capacity=capacity, im=False
    )
    im_seats = await asyncio.to_thread(
        cs.seats_create, prefix="relay-im", count=sizes.relay_seats - half, capacity=capacity, im=True
    )
    customers = [f"relay-c{number}" for number in range(sizes.relay_customers)]
    await sandbox.create_users(customers + [seat.im_user_id for seat in im_seats])
    logins = [(seat.seat_id, await asyncio.to_thread(cs.login_session_key, seat.user_id)) for seat in console_seats]
    session = console_session()
    consoles = await connect_consoles(session, cs_url=stack.url, logins=logins, on_event=tracker.on_console_event)
    await gather_limited([sandbox.send_text(sender=c, target="cs_robot", text="转人工") for c in customers], limit=5)

    def all_assigned() -> bool:
        return len(_assigned_pairs(customers)) == len(customers)

    await asyncio.to_thread(wait_until, all_assigned, timeout=120, what="every relay customer to be assigned")
    await asyncio.to_thread(cs.wait_for_quiet, timeout=120)  # handovers sent, shadows created
    by_seat = {console.seat_id: console for console in consoles}
    pairs = await asyncio.to_thread(_assigned_pairs, customers)
    for pair in pairs:
        pair.console = by_seat.get(pair.seat_id)
    return Talkers(pairs, consoles, session)


async def _measure(ctx: Context, stack: Stack) -> tuple[dict[int, list[RateRun]], list[RateRun], dict[str, float]]:
    sizes = ctx.sizes
    tracker = Tracker()
    async with http_session(limit=200) as http:
        sandbox = SandboxClient(stack.sandbox.robot_url, http)
        talkers = await _setup(ctx, stack, sandbox, tracker)
        pairs = talkers.pairs
        try:
            await talk(sandbox=sandbox, tracker=tracker, pairs=pairs, rate=50, seconds=2, tag="warm")
            runs: dict[int, list[RateRun]] = {}
            search: list[RateRun] = []
            # Rate by rate, slowest first; the search runs as soon as a rate fails, before faster
            # rates leave minutes of callbacks queued at the IM side.
            for rate in sorted(sizes.relay_rates):
                runs[rate] = []
                for repeat in range(sizes.repeats):
                    # Repeats of a rate the stack cannot keep up with would wait minutes for the IM side's
                    # queue; they are lost either way, so only the first run of a rate waits in full.
                    await _settle(sandbox, timeout=60 if repeat == 0 else 10)
                    run = await talk(
                        sandbox=sandbox, tracker=tracker, pairs=pairs, rate=rate, seconds=sizes.relay_seconds,
                        tag=f"r{repeat}-{rate}",
                    )  # fmt: skip
                    runs[rate].append(run)
                    print(f"  relay {rate}/s run {repeat + 1}: p99 {run.overall.p99:.0f} ms", flush=True)
                if not search and _p99(runs[rate]) >= SUSTAINED_P99_MS:
                    search = await _search(ctx, sandbox, tracker, pairs, runs)
            if not search:
                search = await _search(ctx, sandbox, tracker, pairs, runs)
            memory = _memory(stack)
        finally:
            await close_consoles(talkers.consoles)
            await talkers.session.close()
    return runs, search, memory


async def _settle(sandbox: SandboxClient, *, timeout: float = 60) -> None:
    """Before a run: the IM side's queued callbacks delivered (bounded), the worker idle."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while await sandbox.callbacks_pending() and loop.time() < deadline:
        await asyncio.sleep(0.5)
    await asyncio.to_thread(cs.settle)


def _p99(runs: list[RateRun]) -> float:
    return median([run.overall.p99 for run in runs])


async def _search(
    ctx: Context, sandbox: SandboxClient, tracker: Tracker, pairs: list[Pair], runs: dict[int, list[RateRun]]
) -> list[RateRun]:
    """Bisect between the fastest rate that held p99 < 200 ms and the slowest that did not
    (doubling instead while every rate held). Single runs: the rate runs above are the figures."""
    low = max((rate for rate, rs in runs.items() if _p99(rs) < SUSTAINED_P99_MS), default=0)
    high = min((rate for rate, rs in runs.items() if _p99(rs) >= SUSTAINED_P99_MS and rate > low), default=None)
    steps: list[RateRun] = []
    for step in range(ctx.sizes.relay_search_steps):
        rate = low * 2 if high is None else (low + high) // 2
        if high is not None and high - low <= max(10, low // 10):
            break
        await _settle(sandbox)
        run = await talk(
            sandbox=sandbox, tracker=tracker, pairs=pairs, rate=rate, seconds=ctx.sizes.relay_seconds, tag=f"s{step}"
        )
        steps.append(run)
        print(f"  relay search {rate}/s: p99 {run.overall.p99:.0f} ms", flush=True)
        if run.overall.p99 < SUSTAINED_P99_MS:
            low = rate
        else:
            high = rate
    return steps


def _memory(stack: Stack) -> dict[str, float]:
    """Resident memory (MB) of each ASGI process and of the worker (main and largest child)."""
    memory: dict[str, float] = {}
    for name in stack.asgi.names if stack.asgi else []:
        memory[name] = psutil.Process(stack.pid(name)).memory_info().rss / 2**20
    worker = psutil.Process(stack.pid("worker"))
    memory["worker (main)"] = worker.memory_info().rss / 2**20
    children = [child.memory_info().rss / 2**20 for child in worker.children(recursive=True)]
    memory["worker (largest child)"] = max(children, default=math.nan)
    memory["worker (all processes)"] = memory["worker (main)"] + sum(children)
    return memory


def _sustained(runs: dict[int, list[RateRun]], search: list[RateRun]) -> int:
    held = [rate for rate, rs in runs.items() if _p99(rs) < SUSTAINED_P99_MS]
    held += [run.rate for run in search if run.overall.p99 < SUSTAINED_P99_MS]
    return max(held, default=0)


def run(ctx: Context) -> ScenarioReport:
    stack = ctx.start_stack()
    runs, search, memory = asyncio.run(_measure(ctx, stack))
    at_target = runs.get(TARGET_RATE, [])
    p99 = _p99(at_target) if at_target else math.nan
    profile = ""
    if ctx.profile and not p99 < TARGET_P99_MS:
        profile = _profile(ctx, stack)
    asgi_rss = max((value for key, value in memory.items() if key.startswith("asgi")), default=math.nan)
    targets = [
        Target("Relay p99 < 100 ms at 300 msg/s", "< 100 ms", f"{fmt_ms(p99)} ms", p99 < TARGET_P99_MS),
        Target("ASGI process < 250 MB resident", "< 250 MB", f"{asgi_rss:.0f} MB", asgi_rss < 250),
    ]
    sustained = _sustained(runs, search)
    return ScenarioReport(
        name="relay",
        title="2. Human relay",
        markdown=_render(ctx, runs, search, sustained, memory, profile),
        targets=targets,
        figures={"relay_sustained": float(sustained), "relay_p99_300": p99, "asgi_rss_mb": asgi_rss},
    )


def _profile(ctx: Context, stack: Stack) -> str:
    async def load(seconds: int) -> None:
        tracker = Tracker()
        async with http_session(limit=200) as http:
            sandbox = SandboxClient(stack.sandbox.robot_url, http)
            customers = [f"relay-c{number}" for number in range(ctx.sizes.relay_customers)]
            # The IM-app pairs: both directions go through the sandbox, no console needed.
            pairs = [pair for pair in await asyncio.to_thread(_assigned_pairs, customers) if pair.servicer_im]
            await talk(sandbox=sandbox, tracker=tracker, pairs=pairs, rate=TARGET_RATE, seconds=seconds, tag="prof")

    names = [*(stack.asgi.names if stack.asgi else []), "worker", "sandbox"]
    return profile_processes(
        ctx, stack, label=f"relay at {TARGET_RATE} msg/s (IM-app pairs)", names=names,
        load=lambda seconds: asyncio.run(load(seconds)),
    )  # fmt: skip


def _row(label: str, latency: Latency) -> str:
    return (
        f"| {label} | {latency.count:,} | {latency.lost} | {fmt_ms(latency.p50)} | {fmt_ms(latency.p95)} "
        f"| {fmt_ms(latency.p99)} |"
    )


def _render(
    ctx: Context,
    runs: dict[int, list[RateRun]],
    search: list[RateRun],
    sustained: int,
    memory: dict[str, float],
    profile: str,
) -> str:
    sizes = ctx.sizes
    lines = [
        f"{sizes.relay_customers} customers, {sizes.relay_seats} seats ({sizes.relay_seats // 2} on the console, "
        f"the rest in the IM app), each customer assigned by the product after asking for a human. "
        f"{sizes.relay_seconds} s per run, open loop, directions alternating; `robotRateLimit` raised to "
        f"{UNLIMITED_ROBOT_RATE:,}. Latencies in ms, medians over {sizes.repeats} run(s) of each percentile; "
        "a message not arrived 5 s after the run ended counts as lost (infinitely late).",
        "",
        "| rate (msg/s, both directions) | path | messages | lost | p50 | p95 | p99 |",
        "|---|---|---|---|---|---|---|",
    ]
    for rate, rate_runs in runs.items():
        achieved = median([run.achieved for run in rate_runs])
        overall = Latency.median_of([run.overall for run in rate_runs])
        lines.append(_row(f"**{rate}** (sent {achieved:,.0f}/s) | **all**", overall))
        for path in PATHS:
            per_path = [run.paths[path] for run in rate_runs if path in run.paths]
            if per_path:
                lines.append(_row(f"{rate} | {path}", Latency.median_of(per_path)))
    lines += [
        "",
        f"Highest rate sustained with p99 < {SUSTAINED_P99_MS:.0f} ms: **{fmt_rate(sustained)} msg/s** "
        f"({fmt_ratio(sustained, ctx.baseline())} of the baseline's requests/s). Search runs (single runs): "
        + (", ".join(f"{run.rate}/s → p99 {fmt_ms(run.overall.p99)} ms" for run in search) or "none")
        + ".",
        "",
        "**6. Resident memory at the end of the relay runs** (RSS, MB):",
        "",
        "| process | RSS MB |",
        "|---|---|",
        *(f"| {name} | {value:.0f} |" for name, value in memory.items()),
    ]
    if profile:
        lines += ["", profile]
    return "\n".join(lines)
