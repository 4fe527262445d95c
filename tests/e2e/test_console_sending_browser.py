"""Sending from the console in real Chromium (Daphne alone on the test database): the live
counter and the one limit, the server's own check, and a send that really fails (the link drops
the reply on its way): the text is kept, the failed bubble stays where it was sent while later
messages come after it, 复制 copies it and 重试 sends it. Screenshots in test-artifacts/screenshots/.
"""

from __future__ import annotations

import json
import re

import pytest
from django.db import transaction
from django.db.models import F
from playwright.sync_api import Page, WebSocketRoute, expect

from robots.wfprotocol import TEXT_MAX_LENGTH, text_payload
from seats.models import Seat
from seats.services import seat_create_with_user
from sessions_app.flow.transcript import transcript_append
from sessions_app.models import Message, ServiceSession
from tests.factories import session_make
from tests.support.browser import shot

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

MOST = f"{TEXT_MAX_LENGTH:,}"  # as the console writes numbers in Chinese: 16,000


@pytest.fixture
def page(daphne_page: Page) -> Page:
    return daphne_page


def _customer_says(session_id: int, text: str) -> None:
    with transaction.atomic():
        session = ServiceSession.objects.select_for_update().select_related("customer").get(pk=session_id)
        transcript_append(
            session=session, direction=Message.Direction.IN, author=Message.Author.CUSTOMER, payload=text_payload(text)
        )


def _servicer_texts(session: ServiceSession) -> list[str]:
    messages = Message.objects.filter(session=session, author=Message.Author.SERVICER).order_by("seq")
    return [message.payload["searchableContent"] for message in messages]


def _chat_order(page: Page) -> list[str]:
    """The chat's bubbles from top to bottom: each one's text, "!" before a bubble not sent."""
    order: list[str] = page.evaluate(
        """() => [...document.querySelectorAll("#messages > li")].map(
            (node) => (node.classList.contains("failed") ? "!" : "") + node.querySelector(".bubble").textContent)"""
    )
    return order


def test_sending_is_checked_kept_on_failure_in_time_order_and_retried(page: Page) -> None:
    seat = seat_create_with_user(username="alice", password="alice-pw", display_name="Alice", im_user_id="alice-im")
    session = session_make(seat=seat)
    Seat.objects.filter(pk=seat.pk).update(active_sessions=F("active_sessions") + 1)
    _customer_says(session.pk, "请问我的订单什么时候发货？")

    # The console's websocket goes to Daphne through Playwright, which can drop the next reply.
    link = {"drop_next_reply": False}

    def through_to_daphne(socket: WebSocketRoute) -> None:
        server = socket.connect_to_server()

        def from_page(message: str | bytes) -> None:
            is_reply = isinstance(message, str) and json.loads(message).get("action") == "reply"
            if is_reply and link["drop_next_reply"]:
                link["drop_next_reply"] = False
                socket.close(code=1006, reason="network lost")
                server.close()
                return
            server.send(message)

        socket.on_message(from_page)

    page.route_web_socket("**/ws/console/", through_to_daphne)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.goto("/console/")
    page.fill("input[name=username]", "alice")
    page.fill("input[name=password]", "alice-pw")
    page.click("button[type=submit]")
    state = page.locator("#link-state")
    expect(state).to_have_attribute("data-state", "connected")
    page.locator(".session-item").first.click()
    messages = page.locator("#messages")
    expect(messages).to_contain_text("请问我的订单什么时候发货？")

    # 1. The counter appears past 80 % of the limit; emoji count one character each, as on the server.
    composer, counter, warning = (
        page.locator("#composer-input"),
        page.locator("#composer-counter"),
        page.locator("#composer-limit"),
    )
    send = page.locator("#send-button")
    composer.fill("好" * (TEXT_MAX_LENGTH * 8 // 10))
    expect(counter).to_be_hidden()
    composer.fill("好" * (TEXT_MAX_LENGTH * 8 // 10 + 1))
    expect(counter).to_have_text(f"{TEXT_MAX_LENGTH * 8 // 10 + 1:,} / {MOST}")
    expect(counter).not_to_have_class(re.compile(r"\bover\b"))
    composer.fill("😀" * TEXT_MAX_LENGTH)
    expect(counter).to_have_text(f"{MOST} / {MOST}")
    expect(send).to_be_enabled()
    expect(warning).to_be_hidden()
    shot(page, "sending-01-counter-near-the-limit")

    # 2. Over the limit: red, the send button off, Enter refused with the reason; nothing is sent.
    composer.fill("😀" * TEXT_MAX_LENGTH + "好")
    expect(counter).to_have_text(f"{TEXT_MAX_LENGTH + 1:,} / {MOST}")
    expect(counter).to_have_class(re.compile(r"\bover\b"))
    expect(warning).to_have_text(f"消息过长，无法发送：每条消息最多 {MOST} 个字。")
    expect(composer).to_have_attribute("aria-invalid", "true")
    expect(send).to_be_disabled()
    composer.press("Enter")
    expect(page.locator(".toast-error")).to_contain_text("消息过长，无法发送")
    assert page.evaluate("document.getElementById('composer-input').value.length") == 2 * TEXT_MAX_LENGTH + 1
    shot(page, "sending-02-over-the-limit-refused")
    assert _servicer_texts(session) == []

    # 3. The server checks too: past the console's check, its translated refusal is shown on the
    # failed bubble, and the text comes back to the empty message box.
    composer.fill("")
    too_long = "长" * (TEXT_MAX_LENGTH + 1)
    page.evaluate("([id, text]) => window.ConsoleApp.sendText(id, text)", [session.pk, too_long])
    refused = page.locator("#messages li.failed")
    expect(refused).to_have_count(1)
    expect(refused.locator(".msg-meta")).to_have_text(
        f"未发送：消息过长：每条消息最多 {MOST} 个字，这条有 {TEXT_MAX_LENGTH + 1:,} 个字。"
    )
    expect(composer).to_have_value(too_long)
    shot(page, "sending-03-refused-by-the-server")
    assert _servicer_texts(session) == []

    # 4. The link drops the next reply: it fails, its text is kept in the box and on the bubble.
    answer = "请稍等，我马上帮您查一下订单。"
    composer.fill(answer)
    link["drop_next_reply"] = True
    composer.press("Enter")
    failed = page.locator("#messages li.failed", has_text=answer)
    expect(failed.locator(".msg-meta")).to_have_text("未发送：未连接：消息没有发出。工作台会自动重新连接。")
    expect(composer).to_have_value(answer)
    expect(failed.get_by_role("button", name="重试")).to_be_visible()
    expect(failed.get_by_role("button", name="复制")).to_be_visible()
    expect(state).to_have_attribute("data-state", "connected")  # the console reconnects by itself

    # Later messages, the customer's and another reply, come after the failed bubble.
    _customer_says(session.pk, "好的，我等您消息")
    expect(messages).to_contain_text("好的，我等您消息")
    composer.fill("订单已出库，今天发货。")
    composer.press("Enter")
    expect(page.locator("#messages li[data-seq]", has_text="订单已出库，今天发货。")).to_have_count(1)
    expect(composer).to_have_value("")
    assert _chat_order(page) == [
        "请问我的订单什么时候发货？",
        f"!{too_long}",
        f"!{answer}",
        "好的，我等您消息",
        "订单已出库，今天发货。",
    ]
    shot(page, "sending-04-failed-bubble-in-time-order")

    # 复制 copies the text; 重试, from the keyboard, sends it: the bubble becomes an ordinary one.
    failed.get_by_role("button", name="复制").click()
    expect(page.locator(".toast-success", has_text="已复制。")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == answer
    failed.get_by_role("button", name="重试").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#messages li.failed", has_text=answer)).to_have_count(0)
    expect(page.locator("#messages li[data-seq]", has_text=answer)).to_have_count(1)
    assert _chat_order(page) == [
        "请问我的订单什么时候发货？",
        f"!{too_long}",
        "好的，我等您消息",
        "订单已出库，今天发货。",
        answer,
    ]
    assert _servicer_texts(session) == ["订单已出库，今天发货。", answer]
    shot(page, "sending-05-retried")
