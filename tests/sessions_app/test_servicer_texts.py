"""The texts servicers get on the Wildfire app are in the site's language (a seat has none of its
own), whatever language is active where they are built: an English console's action, a callback."""

from __future__ import annotations

import pytest
from django.utils import translation
from pytest_django.fixtures import Settings as SettingsWrapper

from seats.models import Seat
from sessions_app.flow.servicer_texts import (
    handover_heading_new,
    handover_heading_transfer,
    handover_summary_lines,
    relay_refused_text,
    service_command_reply,
)
from sessions_app.models import Message
from tests.factories import customer_make, message_make, session_make

pytestmark = pytest.mark.django_db


def test_the_handover_notice_is_chinese_even_from_an_english_request(servicer_seat: Seat) -> None:
    session = session_make(seat=servicer_seat)
    messages = [message_make(session, "我的订单没发货"), message_make(session, "请稍候", author=Message.Author.BOT)]
    with translation.override("en"):
        heading = handover_heading_new(session_id=session.pk, customer=session.customer)
        lines = handover_summary_lines(heading=heading, messages=messages)
    assert lines == [
        f"【新会话 #{session.pk}】客户 顾客 请求人工服务。最近的消息：",
        "客户: 我的订单没发货",
        "机器人: 请稍候",
    ]


def test_the_transfer_heading_carries_the_note(servicer_seat: Seat) -> None:
    customer = customer_make()
    with translation.override("en"):
        heading = handover_heading_transfer(session_id=7, customer=customer, from_seat=servicer_seat, note="要退款")
    assert heading == f"【转接会话 #7】{servicer_seat.display_name} 将客户 顾客 转接给您。备注：要退款。"


def test_relay_refusals_and_command_replies_are_in_the_site_language() -> None:
    with translation.override("en"):
        assert (
            relay_refused_text(is_servicer=False, serving=False, too_long=False)
            == "您不是客服，无法通过此会话联系客户。"
        )
        assert relay_refused_text(is_servicer=True, serving=True, too_long=False).startswith("暂不支持转发")
        assert service_command_reply(command="上线", start_command="上线", stop_command="下线") == (
            "已开始服务，新的客户会分配给您。"
        )
        assert service_command_reply(command="?", start_command="上线", stop_command="下线") == (
            "您是客服。发送“上线”开始接待，发送“下线”暂停接待。"
        )


def test_an_english_site_sends_them_in_english(settings: SettingsWrapper) -> None:
    settings.LANGUAGE_CODE = "en"
    assert service_command_reply(command="下线", start_command="上线", stop_command="下线") == (
        "You no longer receive new customers; chats in progress go on."
    )
