from __future__ import annotations

import json

import pytest

from cs_project.errors import ApplicationError
from robots.models import Robot
from robots.wfprotocol import image_payload, text_payload
from sessions_app.flow.servicer import servicer_reply
from sessions_app.models import Message, ServiceSession, SessionEvent
from tests.support.cs_stack import Stack


def _human_session(stack: Stack, seat_name: str = "alice") -> tuple[str, ServiceSession]:
    seat = stack.online_seat(seat_name)
    customer = stack.new_customer()
    stack.im.say(customer, "转人工")
    stack.im.wait_for_text(customer, "为您服务")
    stack.im.wait_for_text(seat.im_user_id, "请求人工服务")
    return customer, ServiceSession.objects.select_related("seat", "customer").get(customer__im_user_id=customer)


def test_customer_messages_reach_the_servicers_im_app_as_the_shadow(cs_stack: Stack) -> None:
    customer, session = _human_session(cs_stack)
    assert session.seat is not None
    cs_stack.im.say(customer, "我的订单还没到")
    relayed = cs_stack.im.wait_for_text(session.seat.im_user_id, "我的订单还没到")
    assert relayed["sender"] == Robot.objects.get(shadow_of=session.customer.im_user_id).robot_id
    cs_stack.im.client_send(
        sender=customer,
        target=cs_stack.cs_robot,
        payload={"type": 3, "remoteMediaUrl": "http://img/x.jpg", "persistFlag": 3},
    )
    cs_stack.im.wait_for(
        session.seat.im_user_id,
        lambda ms: any(m["payload"]["type"] == 3 and m["payload"]["remoteMediaUrl"] == "http://img/x.jpg" for m in ms),
        what="the image relayed to the servicer",
    )


def test_a_reply_from_the_im_app_reaches_the_customer_as_the_cs_robot_with_the_servicer_in_extra(
    cs_stack: Stack,
) -> None:
    customer, session = _human_session(cs_stack)
    assert session.seat is not None
    shadow = Robot.objects.get(shadow_of=session.customer.im_user_id)
    cs_stack.im.say(session.seat.im_user_id, "您好，我来帮您查一下", to=shadow.robot_id)
    reply = cs_stack.im.wait_for_text(customer, "我来帮您查一下")
    assert reply["sender"] == cs_stack.cs_robot
    extra = json.loads(reply["payload"]["extra"])
    assert extra["cs"]["servicer"]["name"] == "Alice"
    assert extra["cs"]["servicer"]["id"] == str(session.seat.pk)
    stored = Message.objects.get(session=session, author=Message.Author.SERVICER)
    assert stored.seat == session.seat
    assert stored.im_message_id == reply["messageUid"]
    assert session.events.filter(kind=SessionEvent.Kind.FIRST_HUMAN_REPLY).count() == 1


def test_a_reply_from_the_console_reaches_the_customer(cs_stack: Stack) -> None:
    customer, session = _human_session(cs_stack)
    assert session.seat is not None
    servicer_reply(session_id=session.pk, seat=session.seat, payload=image_payload("http://img/answer.png"))
    servicer_reply(session_id=session.pk, seat=session.seat, payload=text_payload("图片是操作步骤"))
    messages = cs_stack.im.wait_for(
        customer,
        lambda ms: any(m["payload"].get("searchableContent") == "图片是操作步骤" for m in ms),
        what="the console reply",
    )
    types = [m["payload"]["type"] for m in messages if m["payload"].get("extra")]
    assert types[-2:] == [3, 1], "relayed in order, image then text"


def test_the_bot_stays_silent_while_a_human_owns_the_session(cs_stack: Stack) -> None:
    customer, session = _human_session(cs_stack)

    def from_cs_robot() -> int:
        return sum(m["sender"] == cs_stack.cs_robot for m in cs_stack.im.inbox(customer))

    before = from_cs_robot()
    assert session.seat is not None
    cs_stack.im.say(customer, "在吗")
    cs_stack.im.wait_for_text(session.seat.im_user_id, "在吗")
    assert from_cs_robot() == before
    assert not Message.objects.filter(session=session, author=Message.Author.BOT, seq__gt=3).exists()


def test_another_servicer_cannot_reply_to_a_session_that_is_not_theirs(cs_stack: Stack) -> None:
    customer, session = _human_session(cs_stack)
    other = cs_stack.online_seat("mallory")
    with pytest.raises(ApplicationError) as not_yours:
        servicer_reply(session_id=session.pk, seat=other, payload=text_payload("hi"))
    assert not_yours.value.code == "not_owner"
    shadow = Robot.objects.get(shadow_of=session.customer.im_user_id)
    cs_stack.im.say(other.im_user_id, "我冒充客服", to=shadow.robot_id)
    cs_stack.im.wait_for_text(other.im_user_id, "没有由您接待的会话")
    assert "我冒充客服" not in cs_stack.im.texts(customer)


def test_the_shadow_is_created_once_per_customer(cs_stack: Stack) -> None:
    customer, session = _human_session(cs_stack)
    cs_stack.im.say(customer, "结束会话")
    cs_stack.im.wait_for_text(customer, "会话已结束")
    cs_stack.im.say(customer, "转人工")
    cs_stack.im.wait_for(
        customer, lambda ms: sum("为您服务" in m["payload"].get("searchableContent", "") for m in ms) == 2, what="2nd"
    )
    assert Robot.objects.filter(shadow_of=session.customer.im_user_id).count() == 1
