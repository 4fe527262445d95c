"""The queue panel and answering left messages, in real Chromium against the real processes
(Daphne, a Celery worker, the outbox deliverer) with the sandbox as IM server: a servicer sees a
queued customer with position, waiting time and first message, takes them and chats; then answers
a left message, which the customer receives from the CS Robot. Screenshots go to
test-artifacts/screenshots/.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from seats.models import Seat
from sessions_app.flow.left_messages import left_message_created
from sessions_app.models import Customer, LeftMessage, Message, ServiceSession
from tests.support.browser import shot
from tests.support.stack import LiveStack

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


def _page(browser: Browser, stack: LiveStack, errors: list[str]) -> Page:
    context = browser.new_context(base_url=stack.url, locale="zh-CN", viewport={"width": 1440, "height": 860})
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.on("pageerror", lambda error: errors.append(str(error)))
    return page


def _ask_for_human(stack: LiveStack, customer: str, first: str) -> None:
    stack.im.say(customer, first)
    stack.im.wait_for_text(customer, "欢迎咨询")
    stack.im.say(customer, "转人工")


def test_a_servicer_takes_a_queued_customer_and_answers_a_left_message(live_stack: LiveStack, browser: Browser) -> None:
    stack = live_stack
    # The periodic drain would hand the queued customer to the servicer as soon as she has room;
    # without it, the take below is hers to make (the race itself is tested in test_queue_take.py).
    beat = stack.processes["beat"]
    beat.terminate()
    beat.wait(timeout=30)
    alice = stack.online_seat("alice", capacity=1)
    errors: list[str] = []
    page = _page(browser, stack, errors)
    page.goto("/console/")
    page.fill("input[name=username]", "alice")
    page.fill("input[name=password]", "alice-pw")
    page.click("button[type=submit]")
    expect(page.locator("#link-state")).to_have_attribute("data-state", "connected")
    expect(page.locator("#queue-empty")).to_be_visible()

    # A first customer fills Alice's only place; the second one waits in the queue, shown live.
    first = stack.new_customer()
    _ask_for_human(stack, first, "你好")
    expect(page.locator(".session-item")).to_have_count(1)
    second = stack.new_customer()
    _ask_for_human(stack, second, "我的快递三天没动了")
    stack.im.wait_for_text(second, "排")
    queued = page.locator(".queue-item")
    expect(queued).to_have_count(1)
    expect(queued.first).to_contain_text(f"1. 顾客{second[-4:]}")
    expect(queued.first).to_contain_text("我的快递三天没动了")
    expect(page.locator("#queue-count")).to_have_text("1")
    shot(page, "queue-01-waiting")

    # Full: taking is refused with the reason.
    queued.first.get_by_role("button", name="接待").click()
    expect(page.locator(".toast", has_text="接待量已满")).to_be_visible()
    # A supervisor raises her capacity; she takes the customer herself and the chat opens.
    Seat.objects.filter(pk=alice.pk).update(capacity=2)
    page.click("#queue-take-next")
    expect(page.locator(".toast", has_text="您已开始接待")).to_be_visible()
    expect(queued).to_have_count(0)
    expect(page.locator("#queue-empty")).to_be_visible()
    expect(page.locator(".session-item")).to_have_count(2)
    expect(page.locator("#messages")).to_contain_text("我的快递三天没动了")
    stack.im.wait_for_text(second, "Alice")
    page.locator("#composer-input").fill("我来帮您查一下")
    page.locator("#composer-input").press("Enter")
    stack.im.wait_for_text(second, "我来帮您查一下")
    session = ServiceSession.objects.get(customer__im_user_id=second, state=ServiceSession.State.HUMAN)
    assert session.seat_id == alice.pk
    shot(page, "queue-02-taken")

    # A left message, answered from the console: the customer receives it from the CS Robot.
    third = stack.new_customer()
    customer = Customer.objects.create(im_user_id=third, display_name=f"顾客{third[-4:]}")
    closed = ServiceSession.objects.create(customer=customer, state=ServiceSession.State.CLOSED)
    left = LeftMessage.objects.create(customer=customer, session=closed, text="发票抬头写错了，请帮我重开")
    left_message_created(left_message=left)
    expect(page.locator("#left-count")).to_have_text("1")
    page.click("#tab-left")
    item = page.locator(".left-item")
    expect(item).to_have_count(1)
    item.locator(".left-answer-send").click()
    expect(page.locator(".toast", has_text="请先填写回复内容")).to_be_visible()
    item.locator(".left-answer").fill("已为您重开发票，请查收邮箱。")
    shot(page, "queue-03-left-answer")
    item.locator(".left-answer-send").click()
    expect(page.locator(".toast", has_text="回复已发送给客户")).to_be_visible()
    expect(item).to_have_count(0)
    stack.im.wait_for_text(third, "已为您重开发票")
    left.refresh_from_db()
    assert left.handled_by_id == alice.pk
    assert Message.objects.filter(session=closed, author=Message.Author.SERVICER, seat=alice).count() == 1
    expect(page.locator("#left-empty")).to_be_visible()
    expect(page.locator("#tab-left")).to_have_attribute("aria-selected", re.compile("true"))
    shot(page, "queue-04-left-answered")
    assert errors == []
