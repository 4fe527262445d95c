"""The streaming deliverer (robots/outbox_stream.py) in a thread of the test process, against the sandbox.

The same code ``manage.py outbox_stream`` runs; tests/e2e run it as a process of its own and kill it.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import redis
from django.db import connection
from pytest_django.fixtures import Settings as SettingsWrapper

from robots.models import OutboundMessage
from robots.outbox_stream import OutboxStream
from sessions_app.models import Message
from tests.factories import customer_told
from tests.support.cs_stack import Stack
from tests.support.processes import wait_until
from tests.support.sandbox import Sandbox


@pytest.fixture
def streamed(cs_stack: Stack, sandbox: Sandbox, settings: SettingsWrapper) -> Iterator[Stack]:
    """Rows are written for the stream (no inline delivery); the sandbox's faults reset afterwards."""
    settings.CS_OUTBOX_DELIVERY = "stream"
    try:
        yield cs_stack
    finally:
        sandbox.configure(failMode="none", robotRateLimit=1000)


@contextmanager
def streaming(*, concurrency: int = 16, poll_seconds: float = 1.0) -> Iterator[OutboxStream]:
    """An OutboxStream on an event loop of its own, stopped (and its in-flight sends finished) on exit."""
    ready = threading.Event()
    box: dict[str, object] = {}

    def run() -> None:
        async def main() -> None:
            stream = OutboxStream(concurrency=concurrency, poll_seconds=poll_seconds)
            stop = asyncio.Event()
            box.update(stream=stream, stop=stop, loop=asyncio.get_running_loop())
            ready.set()
            await stream.run(stop)

        try:
            asyncio.run(main())
        finally:
            connection.close()

    thread = threading.Thread(target=run, name="outbox-stream-test")
    thread.start()
    assert ready.wait(10)
    stream, stop, loop = box["stream"], box["stop"], box["loop"]
    assert isinstance(stream, OutboxStream)
    assert isinstance(stop, asyncio.Event)
    assert isinstance(loop, asyncio.AbstractEventLoop)
    try:
        yield stream
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(30)
        assert not thread.is_alive(), "the stream stopped"


def _pending() -> int:
    return OutboundMessage.objects.filter(state=OutboundMessage.State.PENDING).count()


def test_many_conversations_are_delivered_at_once_each_in_order(streamed: Stack) -> None:
    customers = [streamed.new_customer() for _ in range(12)]
    texts = {customer: [f"{customer[-4:]}第{i}条" for i in range(6)] for customer in customers}
    with streaming(concurrency=8):
        for customer in customers:
            customer_told(customer, texts[customer])
        wait_until(lambda: _pending() == 0, timeout=30, what="every row to be sent")
    for customer in customers:
        assert streamed.im.texts(customer, sender=streamed.cs_robot) == texts[customer], "in order, each once"
    rows = OutboundMessage.objects.all()
    assert {row.state for row in rows} == {OutboundMessage.State.SENT}
    assert all(row.attempts == 1 and row.im_message_uid for row in rows)
    # The flow learnt each IM message id (robots.handlers, a batch at a time).
    by_reference = {row.reference: row.im_message_uid for row in rows if row.reference is not None}
    assert len(by_reference) == len(rows)
    for message in Message.objects.filter(pk__in=list(by_reference)):
        assert message.im_message_id == by_reference[message.pk]


def test_a_commit_wakes_the_stream_at_once_without_waiting_for_its_poll(streamed: Stack) -> None:
    customer = streamed.new_customer()
    with streaming(poll_seconds=60):
        time.sleep(1.0)  # the stream is idle, waiting on NOTIFY (or a poll a minute away)
        customer_told(customer, ["叫醒"])
        wait_until(lambda: _pending() == 0, timeout=10, what="the row to be sent long before the next poll")
    assert streamed.im.texts(customer, sender=streamed.cs_robot) == ["叫醒"]


def test_two_streams_never_send_a_row_twice_nor_out_of_order(streamed: Stack) -> None:
    customers = [streamed.new_customer() for _ in range(6)]
    texts = {customer: [f"{customer[-4:]}-{i}" for i in range(10)] for customer in customers}
    for customer in customers:
        customer_told(customer, texts[customer])
    with streaming(concurrency=4) as first, streaming(concurrency=4) as second:
        wait_until(lambda: _pending() == 0, timeout=30, what="every row to be sent")
    assert first.sent_count + second.sent_count == 60
    assert first.sent_count > 0, "both took part"
    assert second.sent_count > 0, "both took part"
    for customer in customers:
        assert streamed.im.texts(customer, sender=streamed.cs_robot) == texts[customer]


def test_a_failing_im_server_backs_off_and_then_everything_arrives_in_order(
    streamed: Stack, sandbox: Sandbox, settings: SettingsWrapper
) -> None:
    settings.CS_OUTBOX_MAX_BACKOFF_SECONDS = 1
    customer = streamed.new_customer()
    texts = ["一", "二", "三"]
    sandbox.configure(failMode="http503", failScope="robot")  # the proxy in front: the IM server is away
    with streaming():
        customer_told(customer, texts)
        wait_until(
            lambda: OutboundMessage.objects.filter(attempts__gte=4).exists(), timeout=20, what="a fourth attempt"
        )
        rows = list(OutboundMessage.objects.order_by("id"))
        assert rows[0].state == OutboundMessage.State.PENDING, "past the few tries a 500 gets"
        assert "HTTP 503" in rows[0].last_error
        assert [row.attempts for row in rows[1:]] == [0, 0], "the rows behind the head wait"
        sandbox.configure(failMode="none")
        wait_until(lambda: _pending() == 0, timeout=15, what="the rows to be sent")
    assert streamed.im.texts(customer, sender=streamed.cs_robot) == texts


def test_a_steady_http_500_fails_the_head_after_three_attempts_and_the_rest_arrive(
    streamed: Stack, sandbox: Sandbox, settings: SettingsWrapper
) -> None:
    settings.CS_OUTBOX_MAX_BACKOFF_SECONDS = 1
    customer = streamed.new_customer()
    sandbox.configure(failMode="http500", failScope="robot", failCount=3)
    with streaming():
        customer_told(customer, ["一", "二", "三"])
        wait_until(lambda: _pending() == 0, timeout=20, what="the rows to be sent or failed")
    head, *rest = OutboundMessage.objects.order_by("id")
    assert (head.state, head.attempts) == (OutboundMessage.State.FAILED, 3)
    assert head.last_error.startswith("gave up after 3 attempts; last: WfcHttpError")
    assert [row.state for row in rest] == [OutboundMessage.State.SENT] * 2
    assert streamed.im.texts(customer, sender=streamed.cs_robot) == ["二", "三"]


def test_an_unexpected_error_is_recorded_and_blocks_only_its_own_conversation(
    streamed: Stack, settings: SettingsWrapper
) -> None:
    broken, fine = streamed.new_customer(), streamed.new_customer()
    customer_told(broken, ["坏的", "后面的"])
    OutboundMessage.objects.filter(target_user_id=broken, payload__searchableContent="坏的").update(
        payload={"type": "not a number"}
    )
    with streaming():
        customer_told(fine, ["好的"])
        wait_until(lambda: streamed.im.texts(fine, sender=streamed.cs_robot) == ["好的"], timeout=10, what="好的")
        wait_until(
            lambda: OutboundMessage.objects.filter(attempts=1, target_user_id=broken).exists(),
            timeout=10,
            what="the broken row's attempt to be recorded",
        )
    head, behind = OutboundMessage.objects.filter(target_user_id=broken).order_by("id")
    assert head.state == OutboundMessage.State.PENDING
    assert head.last_error, "the failure is visible in the admin"
    assert head.next_attempt_at > head.created_at, "backing off"
    assert (behind.state, behind.attempts) == (OutboundMessage.State.PENDING, 0), "not overtaken"
    assert streamed.im.texts(broken, sender=streamed.cs_robot) == []


def test_a_burst_over_the_rate_limit_is_paced_not_refused(
    streamed: Stack, sandbox: Sandbox, settings: SettingsWrapper, redis_client: redis.Redis
) -> None:
    """Both buckets start empty: ours (redis_client empties the limiter's keys) and the sandbox's."""
    settings.WFC_ROBOT_RATE_LIMIT = 20
    sandbox.configure(robotRateLimit=20)  # bursts of 20, then 2 per second; empties its buckets
    customer = streamed.new_customer()
    texts = [f"回复{i}" for i in range(26)]
    with streaming():
        customer_told(customer, texts)
        wait_until(lambda: _pending() == 0, timeout=30, what="the burst to be sent")
    assert streamed.im.texts(customer, sender=streamed.cs_robot) == texts
    assert [row.attempts for row in OutboundMessage.objects.order_by("id")] == [1] * len(texts), "no 250"
