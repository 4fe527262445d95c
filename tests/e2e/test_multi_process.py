"""Two ASGI processes and two Celery workers on one PostgreSQL and Redis: the invariants hold."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import requests
from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone
from pytest_django.fixtures import Settings as SettingsWrapper

from robots.models import InboundMessage, Robot
from seats.models import Seat
from sessions_app.models import Message, ServiceSession, ServiceSettings, SessionEvent
from tests.support.consoles import cookie_for
from tests.support.im import callback_body
from tests.support.processes import wait_until
from tests.support.sandbox import Sandbox
from tests.support.stack import stack_running, start_asgi, start_inbound_stream

pytestmark = pytest.mark.e2e

Json = dict[str, Any]
CUSTOMERS = 40
SEATS = 3
CAPACITY = 2


def _callback(url: str, robot: Robot, sender: str, text: str) -> int:
    body = callback_body(robot_id=robot.robot_id, sender=sender, text=text)
    response = requests.post(
        f"{url}/wfc/callback/{robot.robot_id}", params={"k": robot.callback_token}, data=body, timeout=30
    )
    return response.status_code


def test_concurrent_transfers_and_idle_closes_across_processes(
    sandbox: Sandbox, settings: SettingsWrapper, transactional_db: None, tmp_path: Path
) -> None:
    with stack_running(sandbox=sandbox, settings=settings, tmp_path=tmp_path, workers=2) as stack:
        second_url = start_asgi(stack, stack.exits, name="asgi2")
        for number in range(SEATS):
            stack.online_seat(f"s{number}", capacity=CAPACITY)
        customers = [stack.new_customer() for _ in range(CUSTOMERS)]
        robot = Robot.objects.get(kind=Robot.Kind.CS)

        violations: list[str] = []
        stop = threading.Event()

        idle_customers = threading.Event()

        def watch_capacity() -> None:
            while not stop.is_set():
                rows = ServiceSession.objects.filter(state="human").values("seat").annotate(n=Count("id"))
                violations.extend(f"seat {r['seat']} had {r['n']}" for r in rows if r["n"] > CAPACITY)
                if idle_customers.is_set():
                    # As if each servicer had answered long ago and the customer then went silent:
                    # the idle clock of a human session runs only while the customer owes the reply.
                    # Only rows no one else holds (SKIP LOCKED): a plain bulk UPDATE here waited on the
                    # app's row locks in its own order and deadlocked with it under load.
                    with transaction.atomic():
                        free = ServiceSession.objects.select_for_update(skip_locked=True).filter(
                            state="human", idle_since__isnull=True
                        )
                        ServiceSession.objects.filter(pk__in=list(free.values_list("pk", flat=True))).update(
                            idle_since=timezone.now() - timedelta(hours=1)
                        )
                time.sleep(0.05)
            connection.close()

        watcher = threading.Thread(target=watch_capacity)
        watcher.start()
        try:
            urls = [stack.url, second_url]
            with ThreadPoolExecutor(max_workers=16) as pool:
                statuses = list(
                    pool.map(lambda i: _callback(urls[i % 2], robot, customers[i], "转人工"), range(CUSTOMERS))
                )
            assert Counter(statuses) == {200: CUSTOMERS}
            # Two processes, each acting on the callbacks it received; the workers deliver the answers.
            wait_until(
                lambda: (
                    ServiceSession.objects.filter(state="human").count() == SEATS * CAPACITY
                    and ServiceSession.objects.filter(state="queued").count() == CUSTOMERS - SEATS * CAPACITY
                ),
                timeout=60,
                what="every seat to fill up and the others to queue",
            )
            # Now let the idle timers close sessions while the queue drains onto the freed seats,
            # with both workers and beat running: closes and assignments race for real.
            config = ServiceSettings.load()
            config.human_idle_warning_minutes = 0
            config.human_idle_close_minutes = 0
            config.save()
            idle_customers.set()
            wait_until(
                lambda: (
                    ServiceSession.objects.exclude(state="closed").filter(state="human").count() == 0
                    and ServiceSession.objects.filter(state="queued").count() == 0
                ),
                timeout=120,
                what="every customer to be served and closed by the idle sweep",
            )
        finally:
            stop.set()
            watcher.join()
        assert violations == []
        closes = SessionEvent.objects.filter(kind=SessionEvent.Kind.CLOSED).values("session").annotate(n=Count("id"))
        assert all(row["n"] == 1 for row in closes), "nothing closed twice"
        assert ServiceSession.objects.filter(state="closed", seat__isnull=False).count() == CUSTOMERS
        assert set(Seat.objects.values_list("active_sessions", flat=True)) == {0}


def _assigned(frames: list[Json]) -> Json:
    return next(frame for frame in frames if frame.get("type") == "session.assigned")


async def _console_frames(
    url: str, session_key: str, until: Callable[[list[Json]], bool], act: Callable[[], None], *, origin: str
) -> list[Json]:
    """Open a console websocket on ``url`` from a page of ``origin``, run ``act`` in a thread,
    collect frames until ``until``."""
    frames: list[Json] = []
    async with aiohttp.ClientSession() as client:
        ws_url = url.replace("http://", "ws://") + "/ws/console/"
        # Behind the proxy every process is reached from the public origin, whatever its own port.
        headers = {"Cookie": f"sessionid={session_key}", "Origin": origin}
        async with client.ws_connect(ws_url, headers=headers) as ws:
            hello = json.loads((await ws.receive(timeout=15)).data)
            assert hello["type"] == "hello", hello
            await asyncio.to_thread(act)
            deadline = time.monotonic() + 30
            while not until(frames):
                remaining = deadline - time.monotonic()
                assert remaining > 0, f"the console got {[frame.get('type') for frame in frames]}"
                message = await ws.receive(timeout=remaining)
                assert message.type == aiohttp.WSMsgType.TEXT, message
                frames.append(json.loads(message.data))
            await ws.send_json(
                {
                    "action": "reply",
                    "request_id": "r1",
                    "session_id": _assigned(frames)["session_id"],
                    "text": "来自进程二",
                }
            )
            while True:
                frame = json.loads((await ws.receive(timeout=15)).data)
                if frame.get("type") == "ack":
                    break
    return frames


def test_a_console_on_one_asgi_process_gets_what_happens_through_the_other(
    sandbox: Sandbox, settings: SettingsWrapper, transactional_db: None, tmp_path: Path
) -> None:
    with stack_running(sandbox=sandbox, settings=settings, tmp_path=tmp_path) as stack:
        second_url = start_asgi(stack, stack.exits, name="asgi2")
        seat = stack.online_seat("wsseat", im=False)  # console only: every event must cross processes
        customer = stack.new_customer()
        key = cookie_for(seat.user)

        def customer_asks() -> None:
            # The sandbox posts the customer's messages to the first process (CS_PUBLIC_URL).
            stack.im.say(customer, "转人工")
            stack.im.wait_for_text(customer, "为您服务")
            stack.im.say(customer, "跨进程的消息")

        def arrived(frames: list[Json]) -> bool:
            # Both, in whichever order: the two events are published by different requests, and a
            # loaded machine may deliver the later one first.
            return any(frame.get("type") == "session.assigned" for frame in frames) and any(
                frame.get("type") == "message.new" and "跨进程的消息" in json.dumps(frame, ensure_ascii=False)
                for frame in frames
            )

        frames = asyncio.run(_console_frames(second_url, key, arrived, customer_asks, origin=stack.url))
        session = ServiceSession.objects.get(customer__im_user_id=customer)
        assert _assigned(frames)["session_id"] == session.pk
        # The reply made on the second process reaches the customer through the worker and the IM server.
        stack.im.wait_for_text(customer, "来自进程二")
        assert stack.processes["asgi2"].poll() is None


STREAM_CUSTOMERS = 12
STREAM_MESSAGES = 6


def test_the_inbound_drainer_acts_in_order_and_killed_loses_nothing_nor_acts_twice(
    sandbox: Sandbox, settings: SettingsWrapper, transactional_db: None, tmp_path: Path
) -> None:
    """CS_INBOUND_DRAIN=stream: callbacks only store; the inbound_stream process acts on them. It is
    killed (SIGKILL) while customers write; a new one (or the sweep) acts on what was left, once."""
    with stack_running(sandbox=sandbox, settings=settings, tmp_path=tmp_path) as stack:
        customers = [stack.new_customer() for _ in range(STREAM_CUSTOMERS)]
        robot = Robot.objects.get(kind=Robot.Kind.CS)
        killed = threading.Event()

        def customer_writes(customer: str) -> list[int]:
            statuses = []
            for number in range(STREAM_MESSAGES):
                if number == STREAM_MESSAGES // 2:
                    killed.wait(30)
                statuses.append(_callback(stack.url, robot, customer, f"第{number}条"))
            return statuses

        with ThreadPoolExecutor(max_workers=STREAM_CUSTOMERS) as pool:
            writing = [pool.submit(customer_writes, customer) for customer in customers]
            # Kill the drainer once it is at work, then let the customers write on while none runs.
            wait_until(
                lambda: InboundMessage.objects.filter(state=InboundMessage.State.DONE).exists(),
                timeout=30,
                what="the drainer to act on a first message",
            )
            os.killpg(stack.processes["inbound"].pid, signal.SIGKILL)
            stack.processes["inbound"].wait(10)
            killed.set()
            statuses = [status for future in writing for status in future.result()]
        assert Counter(statuses) == {200: STREAM_CUSTOMERS * STREAM_MESSAGES}
        start_inbound_stream(stack, stack.exits, name="inbound2")
        wait_until(
            lambda: not InboundMessage.objects.exclude(state=InboundMessage.State.DONE).exists(),
            timeout=60,
            what="every stored message to be acted on",
        )
        for customer in customers:
            texts = [
                row.payload["searchableContent"]
                for row in Message.objects.filter(
                    session__customer__im_user_id=customer, author=Message.Author.CUSTOMER
                ).order_by("seq")
            ]
            assert texts == [f"第{number}条" for number in range(STREAM_MESSAGES)], customer
        assert set(InboundMessage.objects.values_list("attempts", flat=True)) == {1}
        # And the answers reached the customers through the IM server.
        stack.im.wait_for_text(customers[0], "")
