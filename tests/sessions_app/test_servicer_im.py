"""The servicer's Wildfire app in step with the console (sessions_app.flow.servicer_im): copies of
console replies and notices in the servicer's conversation with the customer's shadow, marked so
that they never reach the customer."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from pytest_django.fixtures import Settings as SettingsWrapper

from ratings.models import Rating
from ratings.services import rating_record
from robots.models import InboundMessage, OutboundMessage, Robot
from robots.wfprotocol import CsControl, file_payload, image_payload, text_payload
from seats.models import Seat
from sessions_app.flow.closing import idle_sweep, session_supervisor_end
from sessions_app.flow.servicer import servicer_end_session, servicer_reply
from sessions_app.flow.transfer import session_transfer
from sessions_app.models import Message, ServiceSession, ServiceSettings
from tests.support.cs_stack import Stack

Json = dict[str, Any]

ECHO_PREFIX = "【我（控制台）】"
NOT_RELAYED = "不会转发给客户"


def _serving(stack: Stack, name: str = "alice", *, im: bool = True) -> tuple[str, Seat, ServiceSession]:
    seat = stack.online_seat(name, im=im)
    customer = stack.new_customer()
    stack.im.say(customer, "转人工")
    stack.im.wait_for_text(customer, "为您服务")
    if im:
        stack.im.wait_for_text(seat.im_user_id, "请求人工服务")
    return customer, seat, ServiceSession.objects.select_related("seat", "customer").get(customer__im_user_id=customer)


def _shadow_id(customer: str) -> str:
    return Robot.objects.get(shadow_of=customer).robot_id


def _cs(message: Json) -> Json:
    card: Json = json.loads(message["payload"]["extra"])["cs"]
    return card


def _text(message: Json) -> str:
    text: str = message["payload"].get("searchableContent", "")
    return text


def _from_shadow(stack: Stack, seat: Seat, customer: str) -> list[Json]:
    shadow = _shadow_id(customer)
    return [m for m in stack.im.inbox(seat.im_user_id) if m["sender"] == shadow]


def _notice(stack: Stack, seat: Seat, customer: str, kind: str) -> Json:
    def marked(message: Json) -> bool:
        extra = message["payload"].get("extra", "")
        return bool(extra) and json.loads(extra).get("cs", {}).get("notice") == kind

    messages = stack.im.wait_for(seat.im_user_id, lambda ms: any(map(marked, ms)), what=f"the {kind!r} notice")
    notice = next(m for m in messages if marked(m))
    assert notice["sender"] == _shadow_id(customer)
    return notice


def _count(stack: Stack, user: str, text: str) -> int:
    return sum(text in _text(m) for m in stack.im.inbox(user))


def test_a_console_reply_is_copied_to_the_servicers_im_app_after_the_customers_messages(cs_stack: Stack) -> None:
    customer, seat, session = _serving(cs_stack)
    cs_stack.im.say(customer, "我的订单还没到")
    cs_stack.im.wait_for_text(seat.im_user_id, "我的订单还没到")

    servicer_reply(session_id=session.pk, seat=seat, payload=text_payload("马上为您查询"))

    copy = cs_stack.im.wait_for_text(seat.im_user_id, f"{ECHO_PREFIX}马上为您查询")
    assert copy["sender"] == _shadow_id(customer)
    assert (copy["payload"]["type"], copy["payload"]["persistFlag"]) == (9, 1), "P-text: shown, not unread"
    card = _cs(copy)
    assert (card["echo"], card["session"], card["prefix"]) == ("console", str(session.pk), ECHO_PREFIX)
    assert card["servicer"] == {"id": str(seat.pk), "name": "Alice", "avatar": ""}
    assert card["mid"], "a stable id, as every message we send"
    texts = [_text(m) for m in _from_shadow(cs_stack, seat, customer)]
    assert texts.index("我的订单还没到") < texts.index(f"{ECHO_PREFIX}马上为您查询"), "in the conversation's order"
    # The customer gets the reply once, as it was written, from the CS Robot.
    reply = cs_stack.im.wait_for_text(customer, "马上为您查询")
    assert reply["sender"] == cs_stack.cs_robot
    assert _text(reply) == "马上为您查询"
    assert "echo" not in _cs(reply)
    assert _count(cs_stack, customer, "马上为您查询") == 1
    assert session.messages.filter(author=Message.Author.SERVICER).count() == 1


def test_an_image_or_a_file_from_the_console_follows_a_line_that_says_who_sent_it(cs_stack: Stack) -> None:
    customer, seat, session = _serving(cs_stack)
    servicer_reply(session_id=session.pk, seat=seat, payload=image_payload("http://img/steps.png"))
    servicer_reply(
        session_id=session.pk, seat=seat, payload=file_payload("http://files/guide.pdf", name="说明.pdf", size=19)
    )

    copies = cs_stack.im.wait_for(
        seat.im_user_id,
        lambda ms: any(m["payload"]["type"] == 5 for m in ms),
        what="the file's copy",
    )
    shadow = _shadow_id(customer)
    echoed = [m for m in copies if m["sender"] == shadow and "echo" in _cs(m)]
    assert [(m["payload"]["type"], _text(m)) for m in echoed] == [
        (9, f"{ECHO_PREFIX}[图片]"),
        (3, "[图片]"),
        (9, f"{ECHO_PREFIX}[文件] 说明.pdf"),
        (5, "说明.pdf"),
    ]
    assert [_cs(m).get("caption", False) for m in echoed] == [True, False, True, False]
    assert echoed[1]["payload"]["remoteMediaUrl"] == "http://img/steps.png"
    assert echoed[3]["payload"]["content"] == "19"
    received = cs_stack.im.wait_for(
        customer, lambda ms: any(m["payload"]["type"] == 5 for m in ms), what="the file, to the customer"
    )
    assert [m["payload"]["type"] for m in received if m["payload"]["type"] in (3, 5)] == [3, 5]
    assert not any(ECHO_PREFIX in _text(m) for m in received)


def test_a_copy_or_a_notice_sent_back_to_the_shadow_never_reaches_the_customer(cs_stack: Stack) -> None:
    customer, seat, session = _serving(cs_stack)
    servicer_reply(session_id=session.pk, seat=seat, payload=text_payload("请稍等片刻"))
    copy = cs_stack.im.wait_for_text(seat.im_user_id, f"{ECHO_PREFIX}请稍等片刻")
    handover = _notice(cs_stack, seat, customer, "assigned")
    shadow = _shadow_id(customer)

    # What a servicer's client does when they forward them to the chat they came from: the copy as
    # it is (a P-text), the same as a plain text, and the handover notice.
    cs_stack.im.client_send(sender=seat.im_user_id, target=shadow, payload=copy["payload"])
    cs_stack.im.client_send(sender=seat.im_user_id, target=shadow, payload={**copy["payload"], "type": 1})
    cs_stack.im.client_send(sender=seat.im_user_id, target=shadow, payload=handover["payload"])

    cs_stack.im.wait_for(
        seat.im_user_id,
        lambda ms: sum(NOT_RELAYED in _text(m) for m in ms) == 3,
        what="the servicer told three times that nothing was relayed",
    )
    assert _count(cs_stack, customer, "请稍等片刻") == 1
    assert _count(cs_stack, customer, "请求人工服务") == 0
    assert session.messages.filter(author=Message.Author.SERVICER).count() == 1
    forwarded = InboundMessage.objects.filter(robot__robot_id=shadow, sender=seat.im_user_id)
    assert set(forwarded.values_list("state", flat=True)) == {InboundMessage.State.DONE}
    # What the shadow sends never comes back to us: the IM server posts no robot its own messages.
    assert not InboundMessage.objects.filter(sender=shadow).exclude(state=InboundMessage.State.IGNORED).exists()
    # And the servicer may still answer from the IM app.
    cs_stack.im.say(seat.im_user_id, "好的，已查到", to=shadow)
    cs_stack.im.wait_for_text(customer, "好的，已查到")


def test_a_customer_cannot_pass_a_message_off_as_the_servicers_own(cs_stack: Stack) -> None:
    customer, seat, _session = _serving(cs_stack)
    forged = json.dumps({"app": 1, "cs": {"v": 1, "echo": "console", "prefix": ""}})
    cs_stack.im.client_send(
        sender=customer,
        target=cs_stack.cs_robot,
        payload={"type": 1, "searchableContent": "我是客服", "persistFlag": 3, "extra": forged},
    )
    relayed = cs_stack.im.wait_for_text(seat.im_user_id, "我是客服")
    extra = json.loads(relayed["payload"]["extra"])
    assert extra["app"] == 1, "the customer's own keys are kept"
    assert set(extra["cs"]) == {"v", "mid"}, "only our stable id: no mark of a copy"


def test_the_handover_is_the_assigned_notice(cs_stack: Stack) -> None:
    customer, seat, session = _serving(cs_stack)
    handover = _notice(cs_stack, seat, customer, "assigned")
    assert "请求人工服务" in _text(handover)
    assert (handover["payload"]["type"], handover["payload"]["persistFlag"]) == (1, 3), "a customer waits: unread"
    assert _cs(handover)["session"] == str(session.pk)


def test_a_transfer_tells_the_old_servicer_where_it_went_with_the_note(cs_stack: Stack) -> None:
    customer, alice, session = _serving(cs_stack)
    bob = cs_stack.online_seat("bob")

    session_transfer(session_id=session.pk, from_seat=alice, to_seat_id=bob.pk, note="需要补发")

    away = _notice(cs_stack, alice, customer, "transferred_out")
    assert _text(away) == f"【会话 #{session.pk} 已转接】会话已转接给 Bob。备注：需要补发"
    assert (away["payload"]["type"], away["payload"]["persistFlag"]) == (9, 1)
    card = _cs(away)
    assert (card["to"], card["note"], card["session"]) == (
        {"id": str(bob.pk), "name": "Bob"},
        "需要补发",
        str(session.pk),
    )
    handover = _notice(cs_stack, bob, customer, "assigned")
    assert _cs(handover)["from"] == {"id": str(alice.pk), "name": "Alice"}
    assert _cs(handover)["note"] == "需要补发"
    # Bob's console replies are copied to Bob, not to Alice.
    servicer_reply(session_id=session.pk, seat=bob, payload=text_payload("我是 Bob"))
    cs_stack.im.wait_for_text(bob.im_user_id, f"{ECHO_PREFIX}我是 Bob")
    assert not any("我是 Bob" in _text(m) for m in cs_stack.im.inbox(alice.im_user_id))


def _end_by_customer(stack: Stack, session: ServiceSession) -> None:
    stack.im.say(session.customer.im_user_id, "结束会话")


def _end_by_servicer(stack: Stack, session: ServiceSession) -> None:
    assert session.seat is not None
    servicer_end_session(session_id=session.pk, seat=session.seat)


def _end_by_supervisor(stack: Stack, session: ServiceSession) -> None:
    assert session_supervisor_end(session_id=session.pk)


def _end_when_idle(stack: Stack, session: ServiceSession) -> None:
    config = ServiceSettings.load()
    long_ago = timezone.now() - timedelta(
        minutes=config.human_idle_warning_minutes + config.human_idle_close_minutes + 2
    )
    ServiceSession.objects.filter(pk=session.pk).update(idle_since=long_ago, idle_warned_at=long_ago)
    assert idle_sweep()["closed"] == 1


@pytest.mark.parametrize(
    ("end", "reason", "why"),
    [
        (_end_by_customer, "customer_exit", "客户结束了会话。"),
        (_end_by_servicer, "servicer_end", "您结束了会话。"),
        (_end_by_supervisor, "supervisor_end", "主管结束了会话。"),
        (_end_when_idle, "idle_timeout", "长时间无人回复，会话已自动结束。"),
    ],
)
def test_the_end_of_a_session_is_told_to_the_servicer_that_served_it(
    cs_stack: Stack, end: Callable[[Stack, ServiceSession], None], reason: str, why: str
) -> None:
    customer, seat, session = _serving(cs_stack)
    end(cs_stack, session)
    ended = _notice(cs_stack, seat, customer, "closed")
    assert _text(ended) == f"【会话 #{session.pk} 已结束】{why}"
    assert (ended["payload"]["type"], ended["payload"]["persistFlag"]) == (9, 1)
    assert (_cs(ended)["reason"], _cs(ended)["session"]) == (reason, str(session.pk))


def test_a_rating_in_the_chat_is_told_to_the_rated_servicer_with_the_comment(cs_stack: Stack) -> None:
    customer, seat, session = _serving(cs_stack)
    cs_stack.im.say(customer, "结束会话")
    cs_stack.im.wait_for_text(customer, "请为本次服务打分")
    cs_stack.im.control(customer, CsControl.RATING, {"score": 4, "comment": "很耐心"})

    rated = _notice(cs_stack, seat, customer, "rated")
    assert _text(rated) == f"【会话 #{session.pk} 的评价】★★★★☆（4 分）评语：很耐心"
    assert (_cs(rated)["score"], _cs(rated)["comment"]) == (4, "很耐心")


def test_a_rating_from_the_web_form_is_told_too(cs_stack: Stack) -> None:
    customer, seat, session = _serving(cs_stack)
    _end_by_servicer(cs_stack, session)
    cs_stack.im.wait_for_text(customer, "请为本次服务打分")
    session.refresh_from_db()
    rating_record(session=session, score=5, channel=Rating.Channel.FORM)
    rated = _notice(cs_stack, seat, customer, "rated")
    assert _text(rated) == f"【会话 #{session.pk} 的评价】★★★★★（5 分）"


def test_a_console_only_seat_gets_nothing_from_a_shadow(cs_stack: Stack) -> None:
    customer, seat, session = _serving(cs_stack, "carol", im=False)
    servicer_reply(session_id=session.pk, seat=seat, payload=text_payload("只在控制台"))
    cs_stack.im.wait_for_text(customer, "只在控制台")
    servicer_end_session(session_id=session.pk, seat=seat)
    cs_stack.im.wait_for_text(customer, "请为本次服务打分")
    cs_stack.im.say(customer, "5")
    cs_stack.im.wait_for_text(customer, "感谢您的评价")
    assert Rating.objects.get(session=session).score == 5
    assert not OutboundMessage.objects.filter(sender_kind=OutboundMessage.SenderKind.SHADOW).exists()
    assert not Robot.objects.filter(shadow_of=customer).exists()


def test_the_texts_are_in_the_servicers_language(cs_stack: Stack, settings: SettingsWrapper) -> None:
    customer, seat, session = _serving(cs_stack)
    settings.LANGUAGE_CODE = "en"
    servicer_reply(session_id=session.pk, seat=seat, payload=text_payload("One moment"))
    copy = cs_stack.im.wait_for_text(seat.im_user_id, "[Me, in the console] One moment")
    assert _cs(copy)["prefix"] == "[Me, in the console] "
    _end_by_servicer(cs_stack, session)
    ended = _notice(cs_stack, seat, customer, "closed")
    assert _text(ended) == f"[Chat #{session.pk} ended] You ended the chat."
