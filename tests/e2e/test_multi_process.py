"""Two ASGI processes and two Celery workers on one PostgreSQL and Redis: the invariants hold."""

from __future__ import annotations

import json
import random
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from django.db import connection
from django.db.models import Count
from pytest_django.fixtures import Settings as SettingsWrapper

from robots.models import Robot
from seats.models import Seat
from sessions_app.models import ServiceSession, ServiceSettings, SessionEvent
from tests.support.processes import wait_until
from tests.support.sandbox import Sandbox
from tests.support.stack import stack_running, start_asgi

pytestmark = pytest.mark.e2e

CUSTOMERS = 40
SEATS = 3
CAPACITY = 2


def _callback(url: str, robot: Robot, sender: str, text: str) -> int:
    body = {
        "messageId": random.randrange(2**60, 2**62),
        "sender": sender,
        "conv": {"type": 0, "target": robot.robot_id, "line": 0},
        "payload": {"type": 1, "searchableContent": text, "persistFlag": 3},
        "toUsers": [],
        "timestamp": int(time.time() * 1000),
    }
    response = requests.post(
        f"{url}/wfc/callback/{robot.robot_id}", params={"k": robot.callback_token}, data=json.dumps(body), timeout=30
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

        def watch_capacity() -> None:
            while not stop.is_set():
                rows = ServiceSession.objects.filter(state="human").values("seat").annotate(n=Count("id"))
                violations.extend(f"seat {r['seat']} had {r['n']}" for r in rows if r["n"] > CAPACITY)
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
            wait_until(
                lambda: ServiceSession.objects.filter(state="human").count() == SEATS * CAPACITY,
                timeout=30,
                what="every seat to fill up",
            )
            assert ServiceSession.objects.filter(state="queued").count() == CUSTOMERS - SEATS * CAPACITY
            # Now let the idle timers close sessions while the queue drains onto the freed seats,
            # with both workers and beat running: closes and assignments race for real.
            config = ServiceSettings.load()
            config.human_idle_warning_minutes = 0
            config.human_idle_close_minutes = 0
            config.save()
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
