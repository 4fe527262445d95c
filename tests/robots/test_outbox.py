"""The outbox against the sandbox: order, retries after failures, the rate limit, permanent failures."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from pytest_django.fixtures import Settings as SettingsWrapper

from robots.models import OutboundMessage, Robot
from robots.outbox import (
    CsRobotSend,
    ShadowSend,
    outbox_backoff,
    outbox_deliver_key,
    outbox_deliver_keys,
    outbox_due_keys,
    outbox_enqueue_many,
    outbox_lease_left_for_a_send,
    outbox_release,
    outbox_retry_failed,
)
from robots.robot_cache import robot_remember
from robots.services import robots_forget
from robots.wfprotocol import text_payload
from sessions_app.flow.transcript import customer_tell
from sessions_app.models import ServiceSession
from tests.factories import customer_told
from tests.support.cs_stack import Stack
from tests.support.sandbox import Sandbox


@pytest.fixture
def lazy_stack(cs_stack: Stack, sandbox: Sandbox, settings: SettingsWrapper) -> Iterator[Stack]:
    """Deliveries only when the test calls the deliverer (streamed, and no outbox_stream runs);
    the sandbox's faults reset afterwards."""
    settings.CS_OUTBOX_DELIVERY = "stream"
    try:
        yield cs_stack
    finally:
        sandbox.configure(failMode="none", robotRateLimit=1000)


def _deliver_until_done(key: str, *, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while OutboundMessage.objects.filter(ordering_key=key, state=OutboundMessage.State.PENDING).exists():
        assert time.monotonic() < deadline, "the outbox did not drain in time"
        OutboundMessage.objects.filter(ordering_key=key, state="pending").update(next_attempt_at=timezone.now())
        outbox_deliver_key(key=key)
        time.sleep(0.2)


def test_messages_are_delivered_in_order(lazy_stack: Stack) -> None:
    customer = lazy_stack.new_customer()
    texts = [f"第{i}条" for i in range(8)]
    key = customer_told(customer, texts)
    outbox_deliver_key(key=key)
    assert lazy_stack.im.texts(customer, sender=lazy_stack.cs_robot) == texts
    sent = OutboundMessage.objects.filter(ordering_key=key).order_by("id")
    assert all(row.state == OutboundMessage.State.SENT and row.im_message_uid for row in sent)


def test_a_failing_im_server_leaves_messages_pending_then_they_arrive_in_order(
    lazy_stack: Stack, sandbox: Sandbox
) -> None:
    customer = lazy_stack.new_customer()
    texts = ["一", "二", "三"]
    key = customer_told(customer, texts)
    sandbox.configure(failMode="http503", failScope="robot")  # the proxy in front: the IM server is away
    assert outbox_deliver_key(key=key) is not None, "a retry is due later"
    head = OutboundMessage.objects.filter(ordering_key=key).order_by("id").first()
    assert head is not None
    assert (head.state, head.attempts) == (OutboundMessage.State.PENDING, 1)
    assert "HTTP 503" in head.last_error
    assert head.next_attempt_at > timezone.now()
    assert key not in outbox_due_keys(), "not due before its back-off ends"
    assert lazy_stack.im.texts(customer, sender=lazy_stack.cs_robot) == []
    sandbox.configure(failMode="none")
    _deliver_until_done(key, timeout=10)
    assert lazy_stack.im.texts(customer, sender=lazy_stack.cs_robot) == texts


def test_a_burst_over_the_rate_limit_is_delivered_completely(lazy_stack: Stack, sandbox: Sandbox) -> None:
    sandbox.configure(robotRateLimit=20)  # bursts of 20, then 2 per second
    time.sleep(0.5)
    customer = lazy_stack.new_customer()
    texts = [f"回复{i}" for i in range(26)]
    key = customer_told(customer, texts)
    outbox_deliver_key(key=key)
    limited = OutboundMessage.objects.filter(ordering_key=key, state="pending").order_by("id").first()
    assert limited is not None
    assert "RateLimited" in limited.last_error
    _deliver_until_done(key, timeout=30)
    assert lazy_stack.im.texts(customer, sender=lazy_stack.cs_robot) == texts


def test_an_undeliverable_message_fails_visibly_and_can_be_retried(lazy_stack: Stack, sandbox: Sandbox) -> None:
    customer = lazy_stack.new_customer()
    key = customer_told(customer, ["你好", "在吗"])
    # The customer blacklisted the robot (§4.1, code 246): retrying cannot help.
    sandbox.configure(failMode="error_code", failCode=246, failScope="robot", failCount=1)
    outbox_deliver_key(key=key)
    first, second = OutboundMessage.objects.filter(ordering_key=key).order_by("id")
    assert first.state == OutboundMessage.State.FAILED
    assert "code 246" in first.last_error
    assert second.state == OutboundMessage.State.SENT, "a dead message does not block the conversation"
    assert outbox_retry_failed(row_ids=[first.pk]) == 1
    outbox_deliver_key(key=key)
    first.refresh_from_db()
    assert first.state == OutboundMessage.State.SENT
    assert lazy_stack.im.texts(customer, sender=lazy_stack.cs_robot) == ["在吗", "你好"]


def test_after_the_last_allowed_attempt_a_message_fails_visibly_and_the_next_one_goes(
    lazy_stack: Stack, sandbox: Sandbox, settings: SettingsWrapper
) -> None:
    settings.CS_OUTBOX_MAX_ATTEMPTS = 2
    customer = lazy_stack.new_customer()
    key = customer_told(customer, ["一", "二"])
    sandbox.configure(failMode="http503", failScope="robot", failCount=2)
    _deliver_until_done(key, timeout=15)
    first, second = OutboundMessage.objects.filter(ordering_key=key).order_by("id")
    assert (first.state, first.attempts) == (OutboundMessage.State.FAILED, 2)
    assert first.last_error.startswith("gave up after 2 attempts; last: ")
    assert second.state == OutboundMessage.State.SENT
    assert lazy_stack.im.texts(customer, sender=lazy_stack.cs_robot) == ["二"]


def test_a_steady_http_500_fails_a_message_after_three_attempts_and_the_next_one_goes(
    lazy_stack: Stack, sandbox: Sandbox, settings: SettingsWrapper
) -> None:
    # The IM server's 500 is a request it cannot route or read: trying 20 times only hides it.
    settings.CS_OUTBOX_MAX_ATTEMPTS = 20
    customer = lazy_stack.new_customer()
    key = customer_told(customer, ["一", "二"])
    sandbox.configure(failMode="http500", failScope="robot", failCount=3)
    _deliver_until_done(key, timeout=15)
    first, second = OutboundMessage.objects.filter(ordering_key=key).order_by("id")
    assert (first.state, first.attempts) == (OutboundMessage.State.FAILED, 3)
    assert first.last_error.startswith("gave up after 3 attempts; last: WfcHttpError")
    assert "HTTP 500" in first.last_error
    assert second.state == OutboundMessage.State.SENT
    assert lazy_stack.im.texts(customer, sender=lazy_stack.cs_robot) == ["二"]


def test_a_one_off_http_500_is_tried_again(lazy_stack: Stack, sandbox: Sandbox) -> None:
    customer = lazy_stack.new_customer()
    key = customer_told(customer, ["一"])
    sandbox.configure(failMode="http500", failScope="robot", failCount=1)
    _deliver_until_done(key, timeout=15)
    row = OutboundMessage.objects.get(ordering_key=key)
    assert (row.state, row.attempts) == (OutboundMessage.State.SENT, 2)
    assert lazy_stack.im.texts(customer, sender=lazy_stack.cs_robot) == ["一"]


def test_a_proxy_s_503_is_tried_past_the_few_tries_of_a_500(lazy_stack: Stack, sandbox: Sandbox) -> None:
    customer = lazy_stack.new_customer()
    key = customer_told(customer, ["一"])
    sandbox.configure(failMode="http503", failScope="robot", failCount=4)
    _deliver_until_done(key, timeout=15)
    row = OutboundMessage.objects.get(ordering_key=key)
    assert (row.state, row.attempts) == (OutboundMessage.State.SENT, 5)


def test_back_offs_double_and_are_spread(settings: SettingsWrapper) -> None:
    settings.CS_OUTBOX_MAX_BACKOFF_SECONDS = 300
    delays = [outbox_backoff(3) for _ in range(50)]
    assert all(6.4 <= delay <= 9.6 for delay in delays), "8 s ± 20%"
    assert len(set(delays)) > 1, "spread, not all the same"
    assert 240 <= outbox_backoff(20) <= 360, "capped"


def test_slow_down_answers_never_use_up_the_attempts(
    lazy_stack: Stack, sandbox: Sandbox, settings: SettingsWrapper
) -> None:
    settings.CS_OUTBOX_MAX_ATTEMPTS = 1
    customer = lazy_stack.new_customer()
    key = customer_told(customer, ["慢一点"])
    sandbox.configure(failMode="error_code", failCode=250, failScope="robot", failCount=1)
    assert outbox_deliver_key(key=key) is not None
    row = OutboundMessage.objects.get(ordering_key=key)
    assert row.state == OutboundMessage.State.PENDING, "code 250 is slow down, not a failure"
    _deliver_until_done(key, timeout=10)
    assert lazy_stack.im.texts(customer, sender=lazy_stack.cs_robot) == ["慢一点"]


@pytest.mark.django_db(transaction=True)
def test_a_row_written_while_its_key_is_in_flight_is_sent_by_the_thread_delivering_it(
    lazy_stack: Stack, sandbox: Sandbox
) -> None:
    """Inline delivery: the thread that commits a row while its key's head is being sent cannot claim
    it (the head is leased) and leaves it to the delivering thread, which looks again when done."""
    customer = lazy_stack.new_customer()
    key = customer_told(customer, ["先到"])
    sandbox.configure(failMode="delay", failScope="robot", failDelaySeconds=1.0, failCount=1)
    first = threading.Thread(target=outbox_deliver_key, kwargs={"key": key})
    first.start()
    deadline = time.monotonic() + 5
    while not OutboundMessage.objects.filter(ordering_key=key, lease_until__isnull=False).exists():
        assert time.monotonic() < deadline, "the first row was never claimed"
        time.sleep(0.02)
    session = ServiceSession.objects.get(customer__im_user_id=customer)
    customer_tell(session=session, text="后到")
    started = time.monotonic()
    assert outbox_deliver_key(key=key) is None
    assert time.monotonic() - started < 0.5, "the second caller waited instead of handing the key over"
    later = OutboundMessage.objects.filter(ordering_key=key).order_by("pk").last()
    assert later is not None
    assert (later.state, later.attempts) == (OutboundMessage.State.PENDING, 0), "left to the delivering thread"
    first.join(timeout=10)
    assert not first.is_alive()
    later.refresh_from_db()
    assert later.state == OutboundMessage.State.SENT, "sent by the thread that was delivering the key"
    assert lazy_stack.im.texts(customer, sender=lazy_stack.cs_robot) == ["先到", "后到"]
    assert not OutboundMessage.objects.filter(ordering_key=key).exclude(state=OutboundMessage.State.SENT).exists()


def test_a_refused_signature_is_tried_again_at_once_with_the_robot_read_afresh(lazy_stack: Stack) -> None:
    """Another process set the robot up again (a new secret): this process's copy signs with the old
    one, the IM server answers 401, and the row is sent on the second try, in the same delivery."""
    customer = lazy_stack.new_customer()
    key = customer_told(customer, ["换过密钥"])
    stale = Robot.objects.get(robot_id=lazy_stack.cs_robot)
    stale.secret = "an-old-secret"
    robot_remember(stale)
    assert outbox_deliver_key(key=key) is None
    row = OutboundMessage.objects.get(ordering_key=key)
    assert (row.state, row.attempts) == (OutboundMessage.State.SENT, 2)
    assert lazy_stack.im.texts(customer, sender=lazy_stack.cs_robot) == ["换过密钥"]


def test_a_second_refusal_fails_the_row_visibly(lazy_stack: Stack) -> None:
    customer = lazy_stack.new_customer()
    key = customer_told(customer, ["密钥错了"])
    Robot.objects.filter(robot_id=lazy_stack.cs_robot).update(secret="wrong-everywhere")
    try:
        assert outbox_deliver_key(key=key) is None
        row = OutboundMessage.objects.get(ordering_key=key)
        assert (row.state, row.attempts) == (OutboundMessage.State.FAILED, 2)
        assert "401" in row.last_error or "auth" in row.last_error.lower()
    finally:
        robots_forget()


def test_a_claim_too_short_for_a_send_is_given_back_not_sent(lazy_stack: Stack) -> None:
    """Work before the send (a shadow's provisioning, pacing) may use up most of the lease: a send
    that could outlive it is not made, lest another deliverer claim the row and send it too."""
    customer = lazy_stack.new_customer()
    key = customer_told(customer, ["租约"])
    row = OutboundMessage.objects.get(ordering_key=key)
    row.lease_until = timezone.now() + timedelta(seconds=60)
    assert outbox_lease_left_for_a_send(row)
    row.lease_until = timezone.now() + timedelta(seconds=10)  # shorter than connect + answer timeouts
    OutboundMessage.objects.filter(pk=row.pk).update(lease_until=row.lease_until)
    assert not outbox_lease_left_for_a_send(row)
    outbox_release(row)
    released = OutboundMessage.objects.get(pk=row.pk)
    assert (released.lease_until, released.state, released.attempts) == (None, OutboundMessage.State.PENDING, 0)
    # A lease that has passed to another deliverer is left alone.
    theirs = timezone.now() + timedelta(seconds=50)
    OutboundMessage.objects.filter(pk=row.pk).update(lease_until=theirs)
    outbox_release(row)
    assert OutboundMessage.objects.get(pk=row.pk).lease_until == theirs


def _written_together(stack: Stack) -> tuple[str, str, list[int]]:
    """Two texts from the CS Robot to a customer and one from the customer's shadow to another
    user, written by one ``outbox_enqueue_many``: a customer, the other user, the rows' ids."""
    customer, servicer = stack.new_customer(), stack.new_customer()
    sends: list[CsRobotSend | ShadowSend] = [
        CsRobotSend(target_user_id=customer, payload=text_payload("一")),
        ShadowSend(shadow_of=customer, target_user_id=servicer, payload=text_payload("抄送"), befriend_first=True),
        CsRobotSend(target_user_id=customer, payload=text_payload("二")),
    ]
    with transaction.atomic():
        ids = outbox_enqueue_many(sends)
    return customer, servicer, ids


def test_rows_of_several_conversations_written_together_are_all_delivered_in_order(lazy_stack: Stack) -> None:
    customer, servicer, ids = _written_together(lazy_stack)
    rows = {row.pk: row for row in OutboundMessage.objects.filter(pk__in=ids)}
    shadow_row = rows[ids[1]]
    assert (shadow_row.sender_kind, shadow_row.shadow_of, shadow_row.befriend_first) == ("shadow", customer, True)
    assert rows[ids[0]].ordering_key == rows[ids[2]].ordering_key != shadow_row.ordering_key

    with CaptureQueriesContext(connection) as counted:
        outbox_deliver_keys(keys=[rows[ids[0]].ordering_key, shadow_row.ordering_key])

    assert lazy_stack.im.texts(customer, sender=lazy_stack.cs_robot) == ["一", "二"]
    shadow = Robot.objects.get(shadow_of=customer)
    assert lazy_stack.im.texts(servicer, sender=shadow.robot_id) == ["抄送"]
    assert not OutboundMessage.objects.filter(pk__in=ids).exclude(state=OutboundMessage.State.SENT).exists()
    claims = [
        q["sql"]
        for q in counted.captured_queries
        if q["sql"].lstrip().startswith("UPDATE") and "lease_until = " in q["sql"]
    ]
    assert "ANY(" in claims[0], "the heads of both conversations are claimed by one statement"


def test_a_dead_row_in_one_conversation_does_not_hold_up_the_other(lazy_stack: Stack, sandbox: Sandbox) -> None:
    customer, servicer, ids = _written_together(lazy_stack)
    keys = list(OutboundMessage.objects.filter(pk__in=ids[:2]).order_by("pk").values_list("ordering_key", flat=True))
    sandbox.configure(failMode="error_code", failCode=246, failScope="robot", failCount=1)
    outbox_deliver_keys(keys=keys)
    states = dict(OutboundMessage.objects.filter(pk__in=ids).values_list("pk", "state"))
    assert [states[pk] for pk in ids] == ["failed", "sent", "sent"]
    assert lazy_stack.im.texts(customer, sender=lazy_stack.cs_robot) == ["二"]
    assert lazy_stack.im.texts(servicer) == ["抄送"]
