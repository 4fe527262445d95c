"""Robots are never answered: a message from one of our robots (the CS Robot, a shadow) or from an
IM robot the callback names as one is stored as IGNORED, logged once per sender, and acted on by
nobody. Otherwise two answering robots would write to each other forever."""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Iterator

import pytest
import requests
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from robots.callbacks import callback_accept
from robots.im import robot_client
from robots.models import InboundMessage, OutboundMessage, Robot
from robots.services import cs_robot_get, shadow_ensure, shadow_get_or_create
from robots.wfprotocol import Conversation, RobotClient, text_payload
from sessions_app.models import Customer, ServiceSession
from tests.support.cs_stack import Stack
from tests.support.sandbox import Sandbox


def _unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def _body(*, sender: str, target: str, text: str = "你好", **extra: object) -> dict[str, object]:
    return {
        "messageId": uuid.uuid4().int >> 68,
        "sender": sender,
        "conv": {"type": 0, "target": target, "line": 0},
        "payload": {"type": 1, "searchableContent": text, "persistFlag": 3},
        "toUsers": [],
        "timestamp": int(time.time() * 1000),
        **extra,
    }


def _post(robot: Robot, body: dict[str, object]) -> tuple[int, str]:
    response = Client().post(
        f"/wfc/callback/{robot.robot_id}?k={robot.callback_token}",
        data=json.dumps(body),
        content_type="application/json",
    )
    return response.status_code, response.json().get("status", "")


@pytest.fixture
def warnings_logged() -> Iterator[list[str]]:
    """What ``robots.callbacks`` logs at WARNING, whatever pytest's own log capture does."""
    records: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record.getMessage())

    logger, handler = logging.getLogger("robots.callbacks"), Keep(logging.WARNING)
    logger.addHandler(handler)
    yield records
    logger.removeHandler(handler)


@pytest.mark.django_db
def test_our_own_robots_writing_to_each_other_are_stored_ignored_and_never_answered(
    warnings_logged: list[str],
) -> None:
    cs_robot = cs_robot_get()
    shadow = shadow_get_or_create(user_im_id=_unique("cust"))
    assert _post(cs_robot, _body(sender=shadow.robot_id, target=cs_robot.robot_id)) == (200, "ignored")
    assert _post(shadow, _body(sender=cs_robot.robot_id, target=shadow.robot_id)) == (200, "ignored")
    assert _post(cs_robot, _body(sender=shadow.robot_id, target=cs_robot.robot_id, text="再来")) == (200, "ignored")

    assert set(InboundMessage.objects.values_list("state", flat=True)) == {InboundMessage.State.IGNORED}
    assert InboundMessage.objects.count() == 3
    assert not Customer.objects.filter(im_user_id__in=[shadow.robot_id, cs_robot.robot_id]).exists()
    assert not ServiceSession.objects.exists()
    assert not OutboundMessage.objects.exists(), "nothing is answered, to anyone"
    assert len(warnings_logged) == 2, "once per sender"
    first, second = warnings_logged
    assert shadow.robot_id in first
    assert cs_robot.robot_id in first, "and the robot it wrote to"
    assert "one of our robots" in first
    assert cs_robot.robot_id in second


@pytest.mark.django_db
def test_a_callback_that_says_the_sender_is_a_robot_is_ignored(warnings_logged: list[str]) -> None:
    cs_robot = cs_robot_get()
    robot_info = {"userId": "FireRobot", "name": "FireRobot", "type": 1}
    body = _body(sender="FireRobot", target=cs_robot.robot_id, senderUserInfo=robot_info)
    assert _post(cs_robot, body) == (200, "ignored")
    assert InboundMessage.objects.get().state == InboundMessage.State.IGNORED
    assert not OutboundMessage.objects.exists()
    assert "senderUserInfo.type 1" in warnings_logged[0]


@pytest.mark.django_db
def test_a_person_is_answered_with_or_without_sender_info_even_with_an_id_shaped_like_a_shadows(
    warnings_logged: list[str],
) -> None:
    cs_robot = cs_robot_get()
    person: dict[str, object] = {"userId": "x", "name": "x", "type": 0}
    for sender, sender_info in [("lookalike_csshadow", None), (_unique("cust"), person)]:
        body = _body(sender=sender, target=cs_robot.robot_id)
        if sender_info is not None:
            body["senderUserInfo"] = sender_info
        assert _post(cs_robot, body) == (200, "accepted")
        assert ServiceSession.objects.filter(customer__im_user_id=sender).exists()
        assert OutboundMessage.objects.filter(target_user_id=sender).exists(), "the welcome"
    assert warnings_logged == []


@pytest.mark.django_db
def test_a_persons_message_costs_no_statement_for_the_robot_check() -> None:
    cs_robot = cs_robot_get()
    body = json.dumps(_body(sender=_unique("cust"), target=cs_robot.robot_id)).encode()
    with CaptureQueriesContext(connection) as counted:
        callback_accept(robot_id=cs_robot.robot_id, token=cs_robot.callback_token, body=body)
    assert not [query for query in counted.captured_queries if "robots_robot" in query["sql"]]


def _settled(sandbox_url: str, *, stored: int, timeout: float = 15.0) -> None:
    """Until ``stored`` callbacks are stored here and the sandbox has none in flight, twice in a row."""
    deadline, quiet = time.monotonic() + timeout, 0
    while quiet < 2:
        assert time.monotonic() < deadline, f"{InboundMessage.objects.count()} callbacks stored, not {stored}"
        pending = requests.get(f"{sandbox_url}/sandbox/api/callbacks", timeout=5).json()["pending"]
        done = pending == 0 and InboundMessage.objects.count() >= stored
        quiet = quiet + 1 if done else 0
        time.sleep(0.2)


def test_a_shadow_and_the_cs_robot_writing_to_each_other_get_no_answer_and_open_no_session(
    cs_stack: Stack, sandbox: Sandbox
) -> None:
    """Through the sandbox: both robots' callbacks point at us, as in production."""
    customer = cs_stack.new_customer()
    shadow = shadow_ensure(user_im_id=customer)
    cs_robot = cs_robot_get()
    robot_client(shadow).send_message(Conversation(type=0, target=cs_robot.robot_id), text_payload("你好"))
    robot_client(cs_robot).send_message(Conversation(type=0, target=shadow.robot_id), text_payload("您好"))
    _settled(sandbox.robot_url, stored=2)

    assert sorted(InboundMessage.objects.values_list("sender", "state")) == sorted(
        [(shadow.robot_id, InboundMessage.State.IGNORED), (cs_robot.robot_id, InboundMessage.State.IGNORED)]
    )
    assert not ServiceSession.objects.exists()
    assert not OutboundMessage.objects.exists()
    assert cs_stack.im.inbox(customer) == []


def test_an_im_robot_is_not_answered_when_the_im_server_says_it_is_one(cs_stack: Stack, sandbox: Sandbox) -> None:
    """With ``robot.callback_with_sender_info`` on (newer servers): another robot writing to the CS
    Robot gets nothing, a customer still gets the welcome."""
    other_id = _unique("other_bot")
    _uid, secret = cs_stack.admin.create_robot(
        user_id=other_id, name=other_id, display_name="别人的机器人", secret="s" * 20, callback=""
    )
    other = RobotClient(sandbox.robot_url, other_id, secret)
    sandbox.configure(callbackWithSenderInfo=True)
    try:
        other.send_message(Conversation(type=0, target=cs_stack.cs_robot), text_payload("你好"))
        customer = cs_stack.new_customer()
        cs_stack.im.say(customer, "你好")
        cs_stack.im.wait_for_text(customer, "欢迎咨询")
        _settled(sandbox.robot_url, stored=2)
    finally:
        sandbox.configure(callbackWithSenderInfo=False)
    assert InboundMessage.objects.get(sender=other_id).state == InboundMessage.State.IGNORED
    answers = [m for m in cs_stack.im.inbox(other_id) if m["sender"] == cs_stack.cs_robot]
    assert answers == [], "a robot without a callback finds what it is sent in its inbox"
    assert not ServiceSession.objects.filter(customer__im_user_id=other_id).exists()
