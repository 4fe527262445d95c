"""The outbox paced by the client-side robot rate limit, against a sandbox of its own set to the same limit."""

from __future__ import annotations

import threading
import time

import pytest
import redis
from django.db import connection
from django.utils import timezone
from pytest_django.fixtures import Settings as SettingsWrapper

from robots.models import OutboundMessage
from robots.outbox import outbox_deliver_key, outbox_due_keys
from tests.factories import customer_told
from tests.support.cs_stack import Stack
from tests.support.sandbox import Sandbox

LIMIT = 20  # bursts of 20, then 2 per second: the sandbox's http.robot.rate_limit and ours


@pytest.fixture
def sandbox(fresh_sandbox: Sandbox) -> Sandbox:
    """The stack talks to a sandbox of its own: its rate-limit buckets start empty, untouched by other tests."""
    return fresh_sandbox


@pytest.fixture
def paced_stack(cs_stack: Stack, sandbox: Sandbox, settings: SettingsWrapper, redis_client: redis.Redis) -> Stack:
    """Both sides at LIMIT, both buckets empty; deliveries only when the test calls the deliverer
    ."""
    sandbox.configure(robotRateLimit=LIMIT)  # also empties the sandbox's buckets (cs_robot_setup used one)
    settings.WFC_ROBOT_RATE_LIMIT = LIMIT
    settings.CS_OUTBOX_DELIVERY = "stream"  # and no outbox_stream runs: the test calls the deliverer
    return cs_stack


def _deliver_like_a_worker(key: str, *, timeout: float, after: float = 0) -> int:
    """Deliver, and come back after the delay it returns. Returns the pauses."""
    deadline = time.monotonic() + timeout
    pauses = 0
    time.sleep(after)
    try:
        while (delay := outbox_deliver_key(key=key)) is not None:
            assert time.monotonic() < deadline, "the outbox did not drain in time"
            pauses += 1
            time.sleep(delay)
    finally:
        connection.close()  # this thread's connection, when run in one
    return pauses


def _refusals(sandbox: Sandbox) -> int:
    return sandbox.log_path.read_text().count("code=250")


def test_a_burst_from_two_workers_is_paced_to_the_limit_and_the_im_server_refuses_nothing(
    paced_stack: Stack, sandbox: Sandbox
) -> None:
    customers = [paced_stack.new_customer(), paced_stack.new_customer()]
    texts = {customer: [f"回复{customer[-4:]}-{i}" for i in range(15)] for customer in customers}
    keys = [customer_told(customer, texts[customer]) for customer in customers]
    pauses: dict[str, int] = {}

    def worker(key: str) -> None:
        pauses[key] = _deliver_like_a_worker(key, timeout=30)

    started = time.monotonic()
    threads = [threading.Thread(target=worker, args=(key,)) for key in keys]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started

    for customer in customers:
        assert paced_stack.im.texts(customer, sender=paced_stack.cs_robot) == texts[customer]
    rows = OutboundMessage.objects.filter(ordering_key__in=keys)
    assert all(row.state == OutboundMessage.State.SENT for row in rows)
    assert _refusals(sandbox) == 0
    assert [row.attempts for row in rows] == [1] * 30, "one request per message: no 250 was answered"
    assert sum(pauses.values()) >= 5, "the 10 messages beyond the shared burst of 20 waited for their slots"
    assert elapsed > 10 / 2 - 1.5, "paced at 2 per second beyond the burst"


def test_a_250_is_slow_down_and_retry_for_every_worker_never_a_failure(paced_stack: Stack, sandbox: Sandbox) -> None:
    customer, other_customer = paced_stack.new_customer(), paced_stack.new_customer()
    texts = ["一", "二", "三"]
    key = customer_told(customer, texts)
    other_key = customer_told(other_customer, ["另一个会话"])
    # Another client of the same robot emptied the IM server's bucket: it answers 250 once.
    sandbox.configure(failMode="error_code", failCode=250, failScope="robot", failCount=1)

    before = timezone.now()
    delay = outbox_deliver_key(key=key)
    assert delay is not None
    assert delay == pytest.approx(1 / (LIMIT / 10), abs=0.05), "the limiter's next slot, not a fixed second"
    head = OutboundMessage.objects.filter(ordering_key=key).order_by("id").first()
    assert head is not None
    assert (head.state, head.attempts) == (OutboundMessage.State.PENDING, 1)
    assert "RateLimited" in head.last_error
    assert (head.next_attempt_at - before).total_seconds() == pytest.approx(delay, abs=0.1)
    assert key not in outbox_due_keys()

    # The bucket is full for every sender of this robot: the other conversation waits its turn,
    # without a request to the IM server and without an attempt counted.
    other_delay = outbox_deliver_key(key=other_key)
    assert other_delay is not None
    assert other_delay == pytest.approx(2 / (LIMIT / 10), abs=0.1), "queued behind the refused row"
    other_head = OutboundMessage.objects.get(ordering_key=other_key)
    assert (other_head.state, other_head.attempts, other_head.last_error) == (OutboundMessage.State.PENDING, 0, "")

    _deliver_like_a_worker(key, timeout=15, after=delay)
    _deliver_like_a_worker(other_key, timeout=15, after=max(0.0, other_delay - delay))
    assert paced_stack.im.texts(customer, sender=paced_stack.cs_robot) == texts
    assert paced_stack.im.texts(other_customer, sender=paced_stack.cs_robot) == ["另一个会话"]
    assert not OutboundMessage.objects.filter(state=OutboundMessage.State.FAILED).exists()
    assert _refusals(sandbox) == 1, "only the injected one"
