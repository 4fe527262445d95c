"""Acting on stored callbacks: a worker drains each conversation in server-time order, and the
sweep picks up what no task acted on (a lost task message, a crashed worker) or what failed."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
import redis
from django.test import Client
from django.utils import timezone

from robots.callbacks import inbound_drain, inbound_retry_due
from robots.models import InboundMessage, Robot
from robots.services import cs_robot_get
from sessions_app.models import Message

pytestmark = pytest.mark.django_db


def _post(robot: Robot, message_id: int, text: str, timestamp: int, sender: str = "drain-customer") -> None:
    body = {
        "messageId": message_id,
        "sender": sender,
        "conv": {"type": 0, "target": robot.robot_id, "line": 0},
        "payload": {"type": 1, "searchableContent": text, "persistFlag": 3},
        "toUsers": [],
        "timestamp": timestamp,
    }
    response = Client().post(
        f"/wfc/callback/{robot.robot_id}?k={robot.callback_token}",
        data=json.dumps(body),
        content_type="application/json",
    )
    assert response.status_code == 200, response.content


def _customer_texts(sender: str) -> list[str]:
    rows = Message.objects.filter(session__customer__im_user_id=sender, author=Message.Author.CUSTOMER)
    return [row.payload["searchableContent"] for row in rows.order_by("seq")]


def test_the_callback_answers_before_acting_and_queues_the_work(redis_client: redis.Redis) -> None:
    robot = cs_robot_get()
    _post(robot, 1001, "你好", 1_700_000_000_000)
    assert InboundMessage.objects.get().state == InboundMessage.State.PENDING
    assert redis_client.llen("celery") == 1, "one task queued for the conversation"
    assert inbound_drain(robot_pk=robot.pk, sender="drain-customer") == 1
    assert InboundMessage.objects.get().state == InboundMessage.State.DONE
    assert _customer_texts("drain-customer") == ["你好"]


def test_a_conversation_is_acted_on_in_server_time_order_whatever_the_arrival_order(
    redis_client: redis.Redis,
) -> None:
    robot = cs_robot_get()
    # The IM server posts up to five callbacks at once: the later message may arrive first.
    _post(robot, 2002, "second", 1_700_000_000_200)
    _post(robot, 2001, "first", 1_700_000_000_100)
    _post(robot, 2003, "third", 1_700_000_000_300)
    _post(robot, 3001, "someone else", 1_700_000_000_150, sender="other-customer")
    assert inbound_drain(robot_pk=robot.pk, sender="drain-customer") == 3
    assert _customer_texts("drain-customer") == ["first", "second", "third"]
    # Only that conversation was drained; the other waits for its own task.
    assert InboundMessage.objects.get(sender="other-customer").state == InboundMessage.State.PENDING


def test_the_sweep_acts_on_messages_whose_task_was_lost(redis_client: redis.Redis) -> None:
    robot = cs_robot_get()
    _post(robot, 4001, "lost task", 1_700_000_000_000)
    redis_client.flushdb()  # the task message is gone (a broker restart without persistence)
    assert inbound_retry_due() == 0, "too fresh: its task may still be on the way"
    InboundMessage.objects.update(received_at=timezone.now() - timedelta(seconds=30))
    assert inbound_retry_due() == 1
    assert InboundMessage.objects.get().state == InboundMessage.State.DONE
    assert _customer_texts("drain-customer") == ["lost task"]


def test_a_failure_is_kept_visible_then_retried_by_the_sweep(redis_client: redis.Redis) -> None:
    robot = cs_robot_get()
    _post(robot, 5001, "will fail", 1_700_000_000_000)
    good_payload = InboundMessage.objects.get().payload
    InboundMessage.objects.update(payload={"type": "not a number"})  # the CS logic cannot read it
    inbound_drain(robot_pk=robot.pk, sender="drain-customer")
    failed = InboundMessage.objects.get()
    assert failed.state == InboundMessage.State.FAILED
    assert failed.attempts == 1
    assert "type" in failed.last_error
    assert not Message.objects.filter(author=Message.Author.CUSTOMER).exists(), "nothing half-written"
    InboundMessage.objects.update(payload=good_payload, received_at=timezone.now() - timedelta(seconds=30))
    assert inbound_retry_due() == 1
    done = InboundMessage.objects.get()
    assert (done.state, done.attempts, done.last_error) == (InboundMessage.State.DONE, 2, "")
    assert _customer_texts("drain-customer") == ["will fail"]


@pytest.mark.django_db(transaction=True)
def test_a_worker_leaves_a_conversation_another_worker_is_draining(redis_client: redis.Redis) -> None:
    """Several tasks of one busy conversation must not each hold a worker process behind its lock."""
    import threading

    from django.db import connection, transaction

    robot = cs_robot_get()
    _post(robot, 6001, "first", 1_700_000_000_100)
    _post(robot, 6002, "second", 1_700_000_000_200)
    locked, release = threading.Event(), threading.Event()

    def other_worker() -> None:  # holds the oldest pending message, as a worker acting on it would
        with transaction.atomic():
            InboundMessage.objects.select_for_update().get(message_id=6001)
            locked.set()
            release.wait(timeout=30)
        connection.close()

    holder = threading.Thread(target=other_worker)
    holder.start()
    try:
        assert locked.wait(timeout=10)
        started = time.monotonic()
        assert inbound_drain(robot_pk=robot.pk, sender="drain-customer") == 0
        assert time.monotonic() - started < 2, "it did not wait for the lock"
        # Nor did it skip ahead to the younger message.
        assert set(InboundMessage.objects.values_list("state", flat=True)) == {InboundMessage.State.PENDING}
    finally:
        release.set()
        holder.join(timeout=30)
    assert inbound_drain(robot_pk=robot.pk, sender="drain-customer") == 2
    assert _customer_texts("drain-customer") == ["first", "second"]
