"""Scenario 3: assignment storm, 1,000 customers asking for a human within one second.

50 online seats of capacity 5 (250 places, console seats without consoles connected, so presence
leaves them alone). Each customer's client sends "转人工" as its first message through the sandbox,
spread evenly over one second; the sandbox posts the callbacks as the IM server does. A customer
is resolved when the message that assigns them ("客服 … 为您服务") or tells their queue position
("…您前面还有 N 位…") is in their inbox (the sandbox's delivery timestamp). Afterwards no seat may
serve more sessions than its capacity, and each seat's counter must match its sessions.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from django.db import connection
from django.db.models import Count, Q
from django.utils import timezone

from bench import cs
from bench.context import Context, ScenarioReport, Target
from bench.im import UNLIMITED_ROBOT_RATE, SandboxClient, gather_limited, http_session
from bench.stats import Latency, fmt_ms, fmt_rate, fmt_ratio, median
from robots.models import OutboundMessage
from seats.models import Seat
from sessions_app.models import ServiceSession

ASSIGNED_MARK = "为您服务"  # ServiceSettings.assigned_text
QUEUED_MARK = "您前面还有"  # ServiceSettings.queued_text
RESOLVE_TIMEOUT = 180.0


@dataclass(frozen=True)
class StormRun:
    resolved_seconds: float  # first request sent → last customer told
    decided_seconds: float  # first request sent → every session assigned or queued with a position
    per_customer: Latency  # each customer's own request → told (ms)
    assigned: int
    queued: int
    unresolved: int
    over_capacity: int  # seats with more human sessions than capacity, or a counter that disagrees
    max_load: int


def _told(prefix: str) -> int:
    # icontains on a JSON key is a text search (contains would be JSON containment); CJK has no case.
    told = OutboundMessage.objects.filter(
        Q(payload__searchableContent__icontains=ASSIGNED_MARK) | Q(payload__searchableContent__icontains=QUEUED_MARK),
        state=OutboundMessage.State.SENT,
        target_user_id__startswith=prefix,
    )
    return told.values("target_user_id").distinct().count()


def _decided(prefix: str) -> int:
    open_sessions = ServiceSession.objects.filter(customer__im_user_id__startswith=prefix)
    return open_sessions.filter(
        Q(state=ServiceSession.State.HUMAN) | Q(state=ServiceSession.State.QUEUED, announced_position__isnull=False)
    ).count()


def _capacity_check() -> tuple[int, int]:
    """Seats over capacity or with a wrong counter, and the largest number of sessions on one seat."""
    seats = Seat.objects.annotate(
        serving=Count("sessions", filter=Q(sessions__state=ServiceSession.State.HUMAN))
    ).values_list("capacity", "active_sessions", "serving")
    bad = sum(1 for capacity, active, serving in seats if serving > capacity or active != serving)
    return bad, max((serving for _c, _a, serving in seats), default=0)


def _reset() -> None:
    """Close the storm's sessions and free the seats, so the next run starts from the same state."""
    cs.discard_pending_work()
    ServiceSession.objects.exclude(state=ServiceSession.State.CLOSED).update(
        state=ServiceSession.State.CLOSED,
        closed_at=timezone.now(),
        close_reason=ServiceSession.CloseReason.SUPERVISOR_END,
        awaiting_rating_digit=False,
    )
    Seat.objects.update(active_sessions=0, last_assigned_at=None)
    connection.close()


async def _storm(ctx: Context, sandbox: SandboxClient, repeat: int) -> StormRun:
    sizes = ctx.sizes
    prefix = f"storm{repeat}-"
    customers = [f"{prefix}c{number}" for number in range(sizes.storm_customers)]
    await sandbox.create_users(customers)
    await asyncio.to_thread(cs.wait_for_quiet, timeout=60)
    sent_at: dict[str, float] = {}

    async def ask(customer: str) -> None:
        sent_at[customer] = time.time()
        await sandbox.send_text(sender=customer, target="cs_robot", text="转人工")

    loop = asyncio.get_running_loop()
    started, wall_started = loop.time(), time.time()
    tasks = []
    for number, customer in enumerate(customers):
        delay = started + number * sizes.storm_seconds / len(customers) - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(loop.create_task(ask(customer)))
    await asyncio.gather(*tasks)
    decided_at = None
    while loop.time() - started < RESOLVE_TIMEOUT:
        if decided_at is None and await asyncio.to_thread(_decided, prefix) == len(customers):
            decided_at = time.time()
        if await asyncio.to_thread(_told, prefix) == len(customers):
            break
        await asyncio.sleep(0.2)
    told_at: dict[str, float] = {}

    async def read(customer: str) -> None:
        for message in await sandbox.inbox(customer):
            if message.sender != customer and (ASSIGNED_MARK in message.text or QUEUED_MARK in message.text):
                told_at[customer] = message.timestamp_ms / 1000
                return

    await gather_limited([read(customer) for customer in customers], limit=16)
    states = await asyncio.to_thread(
        lambda: dict(
            ServiceSession.objects.filter(customer__im_user_id__startswith=prefix)
            .values_list("state")
            .annotate(n=Count("id"))
            .values_list("state", "n")
        )
    )
    over, max_load = await asyncio.to_thread(_capacity_check)
    await asyncio.to_thread(_reset)
    per_customer = [(told_at[c] - sent_at[c]) * 1000 for c in customers if c in told_at]
    return StormRun(
        resolved_seconds=max(told_at.values(), default=float("inf")) - wall_started
        if len(told_at) == len(customers)
        else float("inf"),
        decided_seconds=(decided_at - wall_started) if decided_at else float("inf"),
        per_customer=Latency.of(per_customer, lost=len(customers) - len(told_at)),
        assigned=states.get(ServiceSession.State.HUMAN, 0),
        queued=states.get(ServiceSession.State.QUEUED, 0),
        unresolved=len(customers) - len(told_at),
        over_capacity=over,
        max_load=max_load,
    )


async def _measure(ctx: Context, robot_url: str) -> list[StormRun]:
    runs = []
    async with http_session(limit=64) as http:
        sandbox = SandboxClient(robot_url, http)
        await sandbox.configure(robotRateLimit=UNLIMITED_ROBOT_RATE)
        for repeat in range(ctx.sizes.repeats):
            run = await _storm(ctx, sandbox, repeat)
            runs.append(run)
            print(f"  storm run {repeat + 1}: resolved in {run.resolved_seconds:.1f} s", flush=True)
    return runs


def run(ctx: Context) -> ScenarioReport:
    sizes = ctx.sizes
    stack = ctx.start_stack()
    cs.seats_create(prefix="storm-s", count=sizes.storm_seats, capacity=sizes.storm_capacity, im=False)
    runs = asyncio.run(_measure(ctx, stack.sandbox.robot_url))
    resolved = median([run.resolved_seconds for run in runs])
    over = sum(run.over_capacity for run in runs)
    rate = sizes.storm_customers / resolved if resolved > 0 else float("nan")
    targets = [
        Target(
            "Assignment storm resolved < 3 s, zero over capacity",
            "< 3 s, 0",
            f"{resolved:.1f} s, {over} seat(s) over capacity",
            resolved < 3 and over == 0,
        )
    ]
    lines = [
        f"{sizes.storm_customers} customers send 转人工 through the sandbox within {sizes.storm_seconds:g} s "
        f"(open loop, evenly spaced) to {sizes.storm_seats} online seats of capacity {sizes.storm_capacity}. "
        f"`robotRateLimit` raised to {UNLIMITED_ROBOT_RATE:,}. Resolved = the assignment or queue-position "
        "message is in the customer's inbox (the welcome message goes first: it is the same conversation). "
        "Delivery of these messages is counted.",
        "",
        "| run | all told (s) | all decided in the database (s) | per customer p50 / p95 / p99 (ms) "
        "| assigned | queued | not told | seats over capacity | most sessions on one seat |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for number, run in enumerate(runs, start=1):
        latency = run.per_customer
        lines.append(
            f"| {number} | {run.resolved_seconds:.1f} | {run.decided_seconds:.1f} | {fmt_ms(latency.p50)} / "
            f"{fmt_ms(latency.p95)} / {fmt_ms(latency.p99)} | {run.assigned} | {run.queued} | {run.unresolved} "
            f"| {run.over_capacity} | {run.max_load} |"
        )
    lines += [
        "",
        f"Median: every customer told in **{resolved:.1f} s** ({fmt_rate(rate)} customers resolved/s, "
        f"{fmt_ratio(rate, ctx.baseline())} of the baseline's requests/s); **{over}** seat(s) over capacity "
        f"in {len(runs)} run(s).",
    ]
    return ScenarioReport(
        name="storm",
        title="3. Assignment storm",
        markdown="\n".join(lines),
        targets=targets,
        figures={"storm_seconds": resolved, "storm_over_capacity": float(over)},
    )
