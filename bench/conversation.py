"""Customers and their servicers talking at a fixed total rate, and how long each message takes.

Open loop: message ``i`` is sent at ``start + i / rate`` whether or not earlier ones arrived, so a
slow server shows up as latency, not as a lower offered rate. Messages alternate direction and go
round the pairs. Each carries a unique marker; it counts as arrived when the marker shows up:

- customer → console: the console's ``message.new`` event (its arrival time here);
- customer → servicer's IM app: the servicer's inbox, from the customer's shadow (the sandbox's
  delivery timestamp, ms; same clock);
- servicer → customer (a console ``reply`` or the IM app writing to the shadow): the customer's
  inbox, from the CS Robot (delivery timestamp).

Never-arrived messages count as infinitely late (``lost``).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Literal

from bench.consoles import Console, Json
from bench.im import SandboxClient, gather_limited
from bench.stats import Latency

Path = Literal["customer→console", "customer→IM app", "console→customer", "IM app→customer"]
PATHS: tuple[Path, ...] = ("customer→console", "customer→IM app", "console→customer", "IM app→customer")


@dataclass
class Pair:
    customer: str
    session_id: int
    seat_id: int
    servicer_im: str  # "" for a console seat
    console: Console | None = None

    @property
    def shadow(self) -> str:
        return f"{self.customer}_csshadow"  # robots.services.shadow_robot_id for a plain id


@dataclass
class Sent:
    path: Path
    at: float
    pair: Pair


@dataclass
class Tracker:
    """What was sent and what arrived, by marker; fed by console events and inbox polls."""

    sent: dict[str, Sent] = field(default_factory=dict)
    arrived: dict[str, float] = field(default_factory=dict)
    cursors: dict[str, int] = field(default_factory=dict)
    errors: int = 0

    def on_console_event(self, seat_id: int, frame: Json, arrived: float) -> None:
        if frame.get("type") == "message.new" and frame.get("author") == "customer":
            marker = str(frame.get("payload", {}).get("searchableContent", ""))
            if marker in self.sent and marker not in self.arrived:
                self.arrived[marker] = arrived
        elif frame.get("type") == "error":
            self.errors += 1

    async def poll_inboxes(self, sandbox: SandboxClient, users: list[str]) -> None:
        async def one(user: str) -> None:
            messages = await sandbox.inbox(user, after=self.cursors.get(user, 0))
            for message in messages:
                self.cursors[user] = max(self.cursors.get(user, 0), message.message_uid)
                if message.text in self.sent and message.text not in self.arrived and message.sender != user:
                    self.arrived[message.text] = message.timestamp_ms / 1000

        await gather_limited([one(user) for user in users], limit=16)

    def pending(self) -> int:
        return len(self.sent) - len(self.arrived)

    def latencies(self) -> dict[Path, Latency]:
        samples: dict[Path, list[float]] = {path: [] for path in PATHS}
        lost: dict[Path, int] = dict.fromkeys(PATHS, 0)
        for marker, sent in self.sent.items():
            if marker in self.arrived:
                samples[sent.path].append(max(0.0, (self.arrived[marker] - sent.at) * 1000))
            else:
                lost[sent.path] += 1
        return {path: Latency.of(samples[path], lost=lost[path]) for path in PATHS if samples[path] or lost[path]}

    def overall(self) -> Latency:
        values = [max(0.0, (self.arrived[m] - s.at) * 1000) for m, s in self.sent.items() if m in self.arrived]
        return Latency.of(values, lost=self.pending())


async def _send(sandbox: SandboxClient, tracker: Tracker, marker: str, pair: Pair, to_customer: bool) -> None:  # noqa: FBT001
    try:
        if not to_customer:
            path: Path = "customer→console" if pair.console else "customer→IM app"
            tracker.sent[marker] = Sent(path, time.time(), pair)
            await sandbox.send_text(sender=pair.customer, target="cs_robot", text=marker)
        elif pair.console is not None:
            tracker.sent[marker] = Sent("console→customer", time.time(), pair)
            frame = {"action": "reply", "request_id": marker, "session_id": pair.session_id, "text": marker}
            await pair.console.send(frame)
        else:
            tracker.sent[marker] = Sent("IM app→customer", time.time(), pair)
            await sandbox.send_text(sender=pair.servicer_im, target=pair.shadow, text=marker)
    except Exception:  # noqa: BLE001 - a failed send is a lost message, counted as such
        tracker.errors += 1


@dataclass(frozen=True)
class RateRun:
    rate: int
    achieved: float
    seconds: float
    overall: Latency
    paths: dict[Path, Latency]
    errors: int


async def talk(
    *,
    sandbox: SandboxClient,
    tracker: Tracker,
    pairs: list[Pair],
    rate: int,
    seconds: float,
    tag: str,
    drain_seconds: float = 5.0,
) -> RateRun:
    """Send ``rate × seconds`` messages at ``rate`` per second, then wait for them (bounded)."""
    inbox_users = [pair.customer for pair in pairs] + sorted({p.servicer_im for p in pairs if p.servicer_im})
    await tracker.poll_inboxes(sandbox, inbox_users)  # cursors past everything sent before
    tracker.sent.clear()
    tracker.arrived.clear()
    tracker.errors = 0
    total = max(1, int(rate * seconds))
    tasks: set[asyncio.Task[None]] = set()
    loop = asyncio.get_running_loop()
    started = loop.time()
    for number in range(total):
        delay = started + number / rate - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        pair = pairs[(number // 2) % len(pairs)]
        task = loop.create_task(_send(sandbox, tracker, f"{tag}-{number}", pair, number % 2 == 1))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    sending = loop.time() - started
    deadline = loop.time() + drain_seconds
    while loop.time() < deadline:
        await asyncio.sleep(0.5)
        await tracker.poll_inboxes(sandbox, inbox_users)
        if not tasks and tracker.pending() == 0:
            break
    for task in list(tasks):
        task.cancel()
    return RateRun(
        rate=rate,
        achieved=total / sending if sending > 0 else float(rate),
        seconds=sending,
        overall=tracker.overall(),
        paths=tracker.latencies(),
        errors=tracker.errors,
    )
