"""The flow on the real processes: Daphne, a Celery worker and beat, the sandbox as IM server."""

from __future__ import annotations

import json

import pytest

from robots.models import OutboundMessage, Robot
from robots.wfprotocol import CsControl
from sessions_app.models import ServiceSession, ServiceSettings
from tests.support.processes import wait_until
from tests.support.stack import LiveStack

pytestmark = pytest.mark.e2e


def test_a_customer_is_served_end_to_end_by_the_real_processes(live_stack: LiveStack) -> None:
    seat = live_stack.online_seat("alice")
    customer = live_stack.new_customer()
    live_stack.im.say(customer, "你好")
    live_stack.im.wait_for_text(customer, "欢迎咨询")
    live_stack.im.say(customer, "转人工")
    live_stack.im.wait_for_text(customer, "Alice 为您服务")
    live_stack.im.wait_for_text(seat.im_user_id, "请求人工服务")
    shadow = Robot.objects.get(shadow_of=customer)
    live_stack.im.say(seat.im_user_id, "您好，请讲", to=shadow.robot_id)
    reply = live_stack.im.wait_for_text(customer, "您好，请讲")
    assert json.loads(reply["payload"]["extra"])["cs"]["servicer"]["name"] == "Alice"
    live_stack.im.control(customer, CsControl.EXIT)
    live_stack.im.wait_for_text(customer, "请为本次服务打分")
    wait_until(
        lambda: not OutboundMessage.objects.exclude(state=OutboundMessage.State.SENT).exists(),
        timeout=10,
        what="every outbound message to be sent",
    )


def test_beat_runs_the_idle_sweep(live_stack: LiveStack) -> None:
    config = ServiceSettings.load()
    config.bot_idle_minutes = 0
    config.human_idle_close_minutes = 0
    config.save()
    customer = live_stack.new_customer()
    live_stack.im.say(customer, "你好")
    live_stack.im.wait_for_text(customer, "会话将在", timeout=30)
    live_stack.im.wait_for_text(customer, "长时间未回复", timeout=30)
    wait_until(
        lambda: ServiceSession.objects.filter(customer__im_user_id=customer, state="closed").exists(),
        timeout=10,
        what="the session to be closed",
    )
