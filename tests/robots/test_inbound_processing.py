"""Acting on stored callbacks: each conversation is drained in server-time order, and the sweep
picks up what was stored but never acted on (a crash in between) or what failed."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
import redis
from django.test import Client
from django.utils import timezone
from pytest_django.fixtures import Settings as SettingsWrapper

from robots.callbacks import (
    MAX_INBOUND_ATTEMPTS,
    inbound_backoff,
    inbound_drain,
    inbound_retry_due,
    inbound_retry_failed,
)
from robots.models import InboundMessage, Robot
from robots.services import cs_robot_get
from sessions_app import models as flow_models
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


def _stored(robot: Robot, message_id: int, text: str, timestamp: int, sender: str = "drain-customer") -> None:
    """As the callback stores a message, when the process dies before acting on it."""
    InboundMessage.objects.create(
        robot=robot,
        message_id=message_id,
        sender=sender,
        conv_type=0,
        conv_target=robot.robot_id,
        payload={"type": 1, "searchableContent": text, "persistFlag": 3},
        server_timestamp=timestamp,
    )


def test_the_callback_stores_then_acts(redis_client: redis.Redis) -> None:
    robot = cs_robot_get()
    _post(robot, 1001, "你好", 1_700_000_000_000)
    assert InboundMessage.objects.get().state == InboundMessage.State.DONE
    assert _customer_texts("drain-customer") == ["你好"]


def test_a_conversation_is_acted_on_in_server_time_order_whatever_the_arrival_order(
    redis_client: redis.Redis,
) -> None:
    robot = cs_robot_get()
    # The IM server posts up to five callbacks at once: the later message may be stored first.
    _stored(robot, 2002, "second", 1_700_000_000_200)
    _stored(robot, 2001, "first", 1_700_000_000_100)
    _stored(robot, 2003, "third", 1_700_000_000_300)
    _stored(robot, 3001, "someone else", 1_700_000_000_150, sender="other-customer")
    assert inbound_drain(robot_pk=robot.pk, sender="drain-customer") == 3
    assert _customer_texts("drain-customer") == ["first", "second", "third"]
    # Only that conversation was drained.
    assert InboundMessage.objects.get(sender="other-customer").state == InboundMessage.State.PENDING


def test_the_sweep_acts_on_messages_stored_but_never_acted_on(redis_client: redis.Redis) -> None:
    robot = cs_robot_get()
    _stored(robot, 4001, "crashed before acting", 1_700_000_000_000)
    assert inbound_retry_due() == 0, "too fresh: the request may still be acting on it"
    InboundMessage.objects.update(received_at=timezone.now() - timedelta(seconds=30))
    assert inbound_retry_due() == 1
    assert InboundMessage.objects.get().state == InboundMessage.State.DONE
    assert _customer_texts("drain-customer") == ["crashed before acting"]


def _unreadable(message_id: int) -> dict[str, object]:
    """Make a stored message one the CS logic cannot read; returns its good payload."""
    good: dict[str, object] = InboundMessage.objects.get(message_id=message_id).payload
    InboundMessage.objects.filter(message_id=message_id).update(payload={"type": "not a number"})
    return good


def _due_now(message_id: int) -> None:
    InboundMessage.objects.filter(message_id=message_id).update(
        next_attempt_at=timezone.now() - timedelta(seconds=1), received_at=timezone.now() - timedelta(seconds=30)
    )


def test_a_failure_is_kept_visible_then_retried_after_its_back_off(redis_client: redis.Redis) -> None:
    robot = cs_robot_get()
    _stored(robot, 5001, "will fail", 1_700_000_000_000)
    good_payload = _unreadable(5001)
    before = timezone.now()
    inbound_drain(robot_pk=robot.pk, sender="drain-customer")
    failed = InboundMessage.objects.get()
    assert (failed.state, failed.attempts) == (InboundMessage.State.PENDING, 1), "pending, its attempt counted"
    assert "type" in failed.last_error
    assert failed.next_attempt_at is not None
    assert failed.next_attempt_at >= before + timedelta(seconds=inbound_backoff(1))
    assert not Message.objects.filter(author=Message.Author.CUSTOMER).exists(), "nothing half-written"
    InboundMessage.objects.update(payload=good_payload, received_at=timezone.now() - timedelta(seconds=30))
    assert inbound_retry_due() == 0, "not before its back-off"
    _due_now(5001)
    assert inbound_retry_due() == 1
    done = InboundMessage.objects.get()
    assert (done.state, done.attempts, done.last_error) == (InboundMessage.State.DONE, 2, "")
    assert _customer_texts("drain-customer") == ["will fail"]


def test_the_back_off_grows() -> None:
    assert [inbound_backoff(n) for n in range(1, 6)] == [5, 10, 20, 40, 40]


def test_a_failing_message_holds_its_conversation_and_no_other(redis_client: redis.Redis) -> None:
    """The customer's later messages wait behind a message being retried: they never overtake it."""
    robot = cs_robot_get()
    _stored(robot, 7001, "first", 1_700_000_000_100)
    good_payload = _unreadable(7001)
    assert inbound_drain(robot_pk=robot.pk, sender="drain-customer") == 1
    _stored(robot, 7002, "second", 1_700_000_000_200)
    _stored(robot, 7101, "someone else", 1_700_000_000_150, sender="other-customer")
    assert inbound_drain(robot_pk=robot.pk, sender="drain-customer") == 0, "held behind the first"
    assert InboundMessage.objects.get(message_id=7002).state == InboundMessage.State.PENDING
    assert inbound_drain(robot_pk=robot.pk, sender="other-customer") == 1, "another conversation goes on"
    InboundMessage.objects.filter(message_id=7001).update(payload=good_payload)
    _due_now(7001)
    assert inbound_retry_due() == 2
    assert _customer_texts("drain-customer") == ["first", "second"], "in the IM server's order"


def test_after_the_last_attempt_a_message_fails_for_good_and_its_conversation_goes_on(
    redis_client: redis.Redis,
) -> None:
    robot = cs_robot_get()
    _stored(robot, 8001, "poison", 1_700_000_000_100)
    good_payload = _unreadable(8001)
    _stored(robot, 8002, "after it", 1_700_000_000_200)
    inbound_drain(robot_pk=robot.pk, sender="drain-customer")
    for _ in range(MAX_INBOUND_ATTEMPTS - 1):
        assert InboundMessage.objects.get(message_id=8002).state == InboundMessage.State.PENDING
        _due_now(8001)
        inbound_retry_due()
    poison = InboundMessage.objects.get(message_id=8001)
    assert (poison.state, poison.attempts) == (InboundMessage.State.FAILED, MAX_INBOUND_ATTEMPTS)
    assert poison.last_error.startswith(f"gave up after {MAX_INBOUND_ATTEMPTS} attempts")
    assert _customer_texts("drain-customer") == ["after it"], "the conversation went on"
    # The admin puts it back in line once the cause is mended: acted on at once.
    InboundMessage.objects.filter(message_id=8001).update(payload=good_payload)
    assert inbound_retry_failed(inbound_ids=[poison.pk]) == 1
    assert InboundMessage.objects.get(message_id=8001).state == InboundMessage.State.DONE
    assert _customer_texts("drain-customer") == ["after it", "poison"]


@pytest.mark.django_db(transaction=True)
def test_a_worker_leaves_a_conversation_another_worker_is_draining(redis_client: redis.Redis) -> None:
    """Several tasks of one busy conversation must not each hold a worker process behind its lock."""
    import threading

    from django.db import connection, transaction

    robot = cs_robot_get()
    _stored(robot, 6001, "first", 1_700_000_000_100)
    _stored(robot, 6002, "second", 1_700_000_000_200)
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


def test_redis_down_is_no_fault_of_the_message_and_uses_up_no_attempt(
    redis_client: redis.Redis, settings: SettingsWrapper
) -> None:
    """An outage longer than the back-off must not give messages up: it is retried, not counted."""
    robot = cs_robot_get()
    _stored(robot, 9001, "during the outage", 1_700_000_000_000)
    working = settings.CACHES
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:1/0"}
    }
    flow_models._local_settings.clear()
    inbound_drain(robot_pk=robot.pk, sender="drain-customer")
    waiting = InboundMessage.objects.get()
    assert (waiting.state, waiting.attempts) == (InboundMessage.State.PENDING, 0)
    assert "ConnectionError" in waiting.last_error
    assert waiting.next_attempt_at is not None
    settings.CACHES = working
    flow_models._local_settings.clear()
    _due_now(9001)
    assert inbound_retry_due() == 1
    assert _customer_texts("drain-customer") == ["during the outage"]
