"""Scenario 5: console fan-out, 200 servicer consoles on one ASGI process.

Every console is a real logged-in websocket at ``ws/console/`` (``sessions_app.console.consumers``). The
harness publishes through the channel layer exactly what the services publish
(``sessions_app.events``: ``{"type": "message.new", "event": …}`` to each seat's group), in rounds: one
``message.new`` event to every seat at once, one to four rounds a second. Latency is from just before
an event's ``group_send`` to its arrival at the console's websocket. The target is judged at one round
a second: every console receiving an event a second is already a busy team (five customers each
writing every five seconds).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from channels.layers import get_channel_layer

from bench import cs
from bench.consoles import Json, close_consoles, connect_consoles, console_session
from bench.context import Context, ScenarioReport, Target
from bench.im import gather_limited
from bench.stats import Latency, fmt_ms, fmt_rate, fmt_ratio, median
from sessions_app.events import seat_group

TARGET_P99_MS = 100.0


@dataclass(frozen=True)
class FanoutRun:
    latency: Latency
    delivered_per_second: float


@dataclass
class Arrivals:
    sent: dict[tuple[int, int], float]
    arrived: dict[tuple[int, int], float]

    def on_event(self, seat_id: int, frame: Json, arrived: float) -> None:
        bench = frame.get("payload", {}).get("bench")
        if frame.get("type") == "message.new" and isinstance(bench, dict):
            self.arrived[(seat_id, int(bench["round"]))] = arrived


def _event(round_number: int, seat_id: int) -> dict[str, object]:
    return {
        "type": "message.new",
        "event": {
            "type": "message.new",
            "session_id": 0,
            "seq": round_number,
            "direction": "in",
            "author": "customer",
            "content_type": 1,
            "payload": {"type": 1, "searchableContent": f"fan-out {round_number}", "bench": {"round": round_number}},
            "server_timestamp": int(time.time() * 1000),
        },
    }


async def _rounds(
    ctx: Context, seat_ids: list[int], arrivals: Arrivals, *, per_second: int, first_round: int
) -> FanoutRun:
    layer = get_channel_layer()
    assert layer is not None
    rounds = per_second * ctx.sizes.fanout_seconds
    arrivals.sent.clear()
    arrivals.arrived.clear()
    loop = asyncio.get_running_loop()
    started = loop.time()

    async def publish(round_number: int, seat_id: int) -> None:
        arrivals.sent[(seat_id, round_number)] = time.time()
        await layer.group_send(seat_group(seat_id), _event(round_number, seat_id))

    for number in range(rounds):
        delay = started + number / per_second - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        round_number = first_round + number
        # At most 50 sends at once: the channel layer's Redis pool has a connection limit.
        await gather_limited([publish(round_number, seat_id) for seat_id in seat_ids], limit=50)
    deadline = loop.time() + 5
    while len(arrivals.arrived) < len(arrivals.sent) and loop.time() < deadline:
        await asyncio.sleep(0.1)
    samples = [(arrivals.arrived[key] - sent) * 1000 for key, sent in arrivals.sent.items() if key in arrivals.arrived]
    return FanoutRun(
        latency=Latency.of(samples, lost=len(arrivals.sent) - len(samples)),
        delivered_per_second=len(samples) / (rounds / per_second),
    )


async def _measure(ctx: Context, cs_url: str, logins: list[tuple[int, str]]) -> dict[int, list[FanoutRun]]:
    arrivals = Arrivals(sent={}, arrived={})
    session = console_session()
    consoles = await connect_consoles(session, cs_url=cs_url, logins=logins, on_event=arrivals.on_event)
    seat_ids = [seat_id for seat_id, _key in logins]
    runs: dict[int, list[FanoutRun]] = {}
    try:
        await _rounds(ctx, seat_ids, arrivals, per_second=1, first_round=0)  # warm-up, not counted
        for per_second in ctx.sizes.fanout_rounds:
            runs[per_second] = []
            for repeat in range(ctx.sizes.repeats):
                first = (len(runs) * 10 + repeat + 1) * 100_000
                run = await _rounds(ctx, seat_ids, arrivals, per_second=per_second, first_round=first)
                runs[per_second].append(run)
                print(f"  fan-out {per_second}/s run {repeat + 1}: p99 {run.latency.p99:.0f} ms", flush=True)
                await asyncio.sleep(2)  # what is still queued drains before the next run
    finally:
        await close_consoles(consoles)
        await session.close()
    return runs


def run(ctx: Context) -> ScenarioReport:
    sizes = ctx.sizes
    stack = ctx.start_stack(asgi_processes=1)  # the scenario is about one process
    seats = cs.seats_create(prefix="fan-s", count=sizes.fanout_consoles, capacity=5, im=False)
    logins = [(seat.seat_id, cs.login_session_key(seat.user_id)) for seat in seats]
    runs = asyncio.run(_measure(ctx, stack.url, logins))
    judged = sizes.fanout_rounds[0]
    latency = Latency.median_of([run.latency for run in runs[judged]])
    target = Target(
        f"Console fan-out p99 < 100 ms ({sizes.fanout_consoles} consoles on one ASGI process, {judged} event/s each)",
        "< 100 ms",
        f"{fmt_ms(latency.p99)} ms",
        latency.p99 < TARGET_P99_MS,
    )
    lines = [
        f"{sizes.fanout_consoles} consoles (logged-in websockets) on one ASGI process. In each round every seat's "
        "group gets one `message.new` event through the channel layer (Redis), as the services send them; "
        f"{sizes.fanout_seconds} s per run, medians over {sizes.repeats} run(s) per rate, after a warm-up run. "
        "An event not delivered 5 s after its run is lost (the channel layer drops what a process's queue "
        "cannot hold).",
        "",
        "| events per console per second | events offered/s | delivered/s | vs baseline | lost | p50 ms | p95 ms "
        "| p99 ms | max ms |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for per_second, rate_runs in runs.items():
        level = Latency.median_of([run.latency for run in rate_runs])
        rate = median([run.delivered_per_second for run in rate_runs])
        lines.append(
            f"| {per_second} | {per_second * sizes.fanout_consoles:,} | {fmt_rate(rate)} "
            f"| {fmt_ratio(rate, ctx.baseline('1-pool'))} | {level.lost} | {fmt_ms(level.p50)} | {fmt_ms(level.p95)} "
            f"| {fmt_ms(level.p99)} | {fmt_ms(level.max)} |"
        )
    return ScenarioReport(
        name="fanout",
        title="5. Console fan-out",
        markdown="\n".join(lines),
        targets=[target],
        figures={"fanout_p99": latency.p99},
    )
