"""The history command in the Wildfire app: a servicer sends 历史 to a customer's shadow and the
shadow answers them with the customer's earlier sessions and last messages; never relayed; only
for servicers who serve or served the customer."""

from __future__ import annotations

import re

import pytest
from django.utils import translation
from pytest_django.fixtures import Settings as SettingsWrapper

from ratings.models import Rating
from robots.models import OutboundMessage, Robot
from seats.models import Seat
from sessions_app.flow.im_history import customer_history_text, served_by
from sessions_app.models import Message, ServiceSession, SessionEvent
from tests.factories import customer_make, message_make, session_make
from tests.support.cs_stack import Stack


def _served_twice(stack: Stack) -> tuple[str, Seat, Robot]:
    """A customer Alice served once (rated 5) and serves again now."""
    alice = stack.online_seat("alice")
    customer = stack.new_customer()
    stack.im.say(customer, "转人工")
    stack.im.wait_for_text(customer, "为您服务")
    stack.im.say(customer, "第一次：发票开错了")
    stack.im.wait_for_text(alice.im_user_id, "发票开错了")
    stack.im.say(customer, "结束会话")
    stack.im.wait_for_text(customer, "请为本次服务打分")
    stack.im.say(customer, "5")
    stack.im.wait_for_text(customer, "感谢您的评价")
    stack.im.say(customer, "转人工")
    stack.im.wait_for(
        customer, lambda ms: sum("为您服务" in m["payload"].get("searchableContent", "") for m in ms) == 2, what="2nd"
    )
    stack.im.say(customer, "这次：快递一直没有更新")
    stack.im.wait_for_text(alice.im_user_id, "快递一直没有更新")
    return customer, alice, Robot.objects.get(shadow_of=customer)


def test_the_command_answers_with_the_customers_history_and_is_not_relayed(cs_stack: Stack) -> None:
    customer, alice, shadow = _served_twice(cs_stack)
    before = len(cs_stack.im.inbox(customer))
    cs_stack.im.say(alice.im_user_id, " 历史 ", to=shadow.robot_id)
    answer = cs_stack.im.wait_for_text(alice.im_user_id, "的历史记录")
    assert answer["sender"] == shadow.robot_id
    text = answer["payload"]["searchableContent"]
    earlier, current = ServiceSession.objects.filter(customer__im_user_id=customer).order_by("pk")
    lines = text.split("\n")
    assert lines[0] == f"客户 顾客{customer[-4:]} 的历史记录"
    assert lines[1] == "以往会话（最近的在前）："
    assert re.fullmatch(r"· \d{4}-\d\d-\d\d \d\d:\d\d · Alice · 评分 5/5 · “第一次：发票开错了”", lines[2])
    assert lines[3] == f"会话 #{current.pk} 的最近消息："
    assert "客户: 这次：快递一直没有更新" in lines[4:]
    assert "客户: 转人工" in lines[4:]
    assert Rating.objects.get(session=earlier).score == 5
    # Nothing reached the customer, and nothing was written to the transcript.
    assert len(cs_stack.im.inbox(customer)) == before
    assert "历史" not in cs_stack.im.texts(customer)
    assert not Message.objects.filter(author=Message.Author.SERVICER).exists()
    current.refresh_from_db()
    assert current.first_human_reply_at is None, "a command is not a reply"


def test_a_servicer_who_never_served_the_customer_is_refused(cs_stack: Stack) -> None:
    customer, _alice, shadow = _served_twice(cs_stack)
    mallory = cs_stack.online_seat("mallory")
    cs_stack.im.say(mallory.im_user_id, "历史", to=shadow.robot_id)
    refusal = cs_stack.im.wait_for_text(mallory.im_user_id, "您没有接待过该客户")
    assert refusal["sender"] == shadow.robot_id
    assert refusal["payload"]["searchableContent"] == "您没有接待过该客户，无法查看其历史记录。"
    assert "发票开错了" not in "".join(cs_stack.im.texts(mallory.im_user_id))
    assert "历史" not in cs_stack.im.texts(customer)


def test_the_command_word_is_a_setting(cs_stack: Stack, settings: SettingsWrapper) -> None:
    settings.CS_HISTORY_COMMAND = "/history"
    customer, alice, shadow = _served_twice(cs_stack)
    cs_stack.im.say(alice.im_user_id, "历史", to=shadow.robot_id)  # now an ordinary reply: relayed
    cs_stack.im.wait_for(customer, lambda ms: any(m["payload"].get("searchableContent") == "历史" for m in ms), what="")
    cs_stack.im.say(alice.im_user_id, "/history", to=shadow.robot_id)
    cs_stack.im.wait_for_text(alice.im_user_id, "的历史记录")
    assert "/history" not in cs_stack.im.texts(customer)


@pytest.mark.django_db
def test_a_servicer_who_transferred_the_customer_away_still_gets_the_history(
    servicer_seat: Seat, other_servicer_seat: Seat
) -> None:
    session = session_make(seat=other_servicer_seat)
    assert not served_by(customer=session.customer, seat=servicer_seat)
    SessionEvent.objects.create(session=session, kind=SessionEvent.Kind.ASSIGNED, seat=servicer_seat)
    assert served_by(customer=session.customer, seat=servicer_seat)
    assert served_by(customer=session.customer, seat=other_servicer_seat)


@pytest.mark.django_db
def test_the_text_keeps_five_earlier_sessions_and_the_last_ten_messages(servicer_seat: Seat) -> None:
    customer = customer_make()
    for number in range(7):
        old = session_make(customer=customer, seat=servicer_seat, state=ServiceSession.State.CLOSED)
        message_make(old, f"第{number}次的问题" + "很长" * 40)
    bot_only = session_make(customer=customer, state=ServiceSession.State.CLOSED)
    _image(bot_only)
    current = session_make(customer=customer, seat=servicer_seat)
    for number in range(12):
        message_make(
            current, f"消息{number}", author=Message.Author.CUSTOMER if number % 2 else Message.Author.SERVICER
        )
    with translation.override("zh-hans"):
        lines = customer_history_text(customer=customer).split("\n")
    sessions = [line for line in lines if line.startswith("· ")]
    assert len(sessions) == 5
    assert sessions[0].endswith("· 仅机器人 · 未评分 · “（无文字）”"), "newest first, a bot-only session"
    assert "第6次的问题" in sessions[1]
    assert "第3次的问题" in sessions[4]
    assert all(len(line.split("“")[1]) == 41 and line.endswith("…”") for line in sessions[1:]), "shortened"
    assert lines[7] == f"会话 #{current.pk} 的最近消息："
    assert lines[8:] == [f"{'客户' if n % 2 else '客服'}: 消息{n}" for n in range(2, 12)]
    assert not OutboundMessage.objects.exists()


@pytest.mark.django_db
def test_with_no_session_open_the_last_ones_messages_are_shown(servicer_seat: Seat) -> None:
    customer = customer_make()
    first = session_make(customer=customer, seat=servicer_seat, state=ServiceSession.State.CLOSED)
    message_make(first, "你好")
    last = session_make(customer=customer, state=ServiceSession.State.CLOSED)
    _image(last)
    with translation.override("en"):
        lines = customer_history_text(customer=customer).split("\n")
    assert lines[0] == "History of customer 顾客"
    assert lines[1] == "Earlier sessions, newest first:"
    assert lines[2].endswith("· Bot only · not rated · “(no text)”")
    assert lines[3].endswith("· Alice · not rated · “你好”")
    assert lines[4:] == [f"Last messages of session #{last.pk}:", "Customer: [Image]"]


@pytest.mark.django_db
def test_a_new_customer_has_no_earlier_sessions(servicer_seat: Seat) -> None:
    session = session_make(seat=servicer_seat)
    with translation.override("zh-hans"):
        text = customer_history_text(customer=session.customer)
    assert text.split("\n")[1:] == ["没有更早的会话。", f"会话 #{session.pk} 的最近消息：", "还没有消息。"]


def _image(session: ServiceSession) -> None:
    session.last_seq += 1
    session.save(update_fields=["last_seq"])
    Message.objects.create(
        session=session,
        seq=session.last_seq,
        direction=Message.Direction.IN,
        author=Message.Author.CUSTOMER,
        content_type=3,
        payload={"type": 3, "remoteMediaUrl": "http://img/x.jpg"},
        server_timestamp=1,
    )
