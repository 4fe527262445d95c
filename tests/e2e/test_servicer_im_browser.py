"""The servicer's Wildfire app in step with the console (issue 15, points 4 and 7), in real Chromium
on the real processes (Daphne, worker, beat, the outbox deliverer) with the sandbox as IM server:
the servicer's IM app (the sandbox's servicer page) shows the handover, the replies typed in the
console marked as such, the history command's answer and the end of the chat; none of it reaches
the customer. Screenshots in test-artifacts/screenshots/.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from playwright.sync_api import Browser, Page, expect

from sessions_app.models import ServiceSession
from tests.support.browser import shot
from tests.support.processes import wait_until
from tests.support.stack import LiveStack

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

REPLY = "您好，我是 Alice，马上为您查询订单。"


@dataclass
class Pages:
    browser: Browser
    opened: list[Page] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def open(self, base_url: str) -> Page:
        context = self.browser.new_context(base_url=base_url, locale="zh-CN", viewport={"width": 1280, "height": 800})
        context.set_default_timeout(15_000)
        page = context.new_page()
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.opened.append(page)
        return page


@pytest.fixture
def pages(browser: Browser) -> Iterator[Pages]:
    opened = Pages(browser)
    yield opened
    for page in opened.opened:
        page.context.close()
    assert opened.errors == [], "no page may raise an uncaught JavaScript error"


def test_the_im_app_shows_the_console_side_of_the_chat_and_answers_the_history_command(
    live_stack: LiveStack, pages: Pages
) -> None:
    seat = live_stack.online_seat("alice")
    customer = live_stack.new_customer()
    live_stack.im.say(customer, "你好")
    live_stack.im.wait_for_text(customer, "欢迎")
    live_stack.im.say(customer, "转人工")
    wait_until(
        lambda: ServiceSession.objects.filter(customer__im_user_id=customer, seat=seat).exists(),
        timeout=15,
        what="the customer to be assigned to alice",
    )
    session = ServiceSession.objects.get(customer__im_user_id=customer, seat=seat)

    # The servicer's IM app: the customer's shadow tells them the chat is theirs, by the customer's name.
    im_app = pages.open(live_stack.im.robot_url)
    im_app.goto(f"/sandbox/servicer?user={seat.im_user_id}")
    chat = im_app.locator("#messages")
    expect(chat).to_contain_text("转人工")  # the conversation so far comes with the handover
    expect(im_app.locator("#chat-head")).to_contain_text(f"顾客{customer[-4:]}")

    # A reply typed in the console reaches the customer, and the IM app shows it, marked.
    console = pages.open(live_stack.url)
    console.goto("/console/")
    console.fill("input[name=username]", "alice")
    console.fill("input[name=password]", "alice-pw")
    console.click("button[type=submit]")
    expect(console.locator("#link-state")).to_have_attribute("data-state", "connected")
    console.locator(".session-item").first.click()
    console.locator("#composer-input").fill(REPLY)
    console.locator("#composer-input").press("Enter")
    live_stack.im.wait_for_text(customer, REPLY)
    expect(chat).to_contain_text(f"【我（控制台）】{REPLY}")
    shot(im_app, "im-app-01-console-reply-in-step")

    # The history command, typed in the IM app: answered to the servicer alone.
    im_app.locator("#text").fill("历史")
    im_app.locator("#composer button[type=submit]").click()
    expect(chat).to_contain_text(f"客户 顾客{customer[-4:]} 的历史记录")
    expect(chat).to_contain_text(f"会话 #{session.pk} 的最近消息")
    expect(chat).to_contain_text(REPLY)
    shot(im_app, "im-app-02-history-command")

    # The servicer ends the chat in the console: the IM app says so.
    console.locator("#end-button").click()
    console.locator("#end-confirm").click()
    expect(chat).to_contain_text(f"【会话 #{session.pk} 已结束】您结束了会话。")
    shot(im_app, "im-app-03-ended-notice")

    customer_saw = live_stack.im.texts(customer)
    assert REPLY in customer_saw
    assert not any("历史" in text or "【" in text for text in customer_saw), customer_saw
