"""Monitor, whisper and take over, in real Chromium against the real processes (Daphne, a Celery
worker, the outbox deliverer) with the sandbox as IM server: a supervisor watches a live chat from
the live view and sees the customer's new message arrive, whispers to the servicer (whose console
shows it; the customer's inbox never gets it), then takes the chat over (the customer is told the
supervisor's name; the servicer's console shows the chat gone and why). Screenshots go to
test-artifacts/screenshots/.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from seats.models import Seat
from seats.services import supervisor_create
from sessions_app.models import Message, ServiceSession, SessionEvent
from tests.support.browser import shot
from tests.support.stack import LiveStack

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

WHISPER = "先查物流单号再答复，别承诺时间"


def _page(browser: Browser, stack: LiveStack, errors: list[str]) -> Page:
    context = browser.new_context(base_url=stack.url, locale="zh-CN", viewport={"width": 1440, "height": 900})
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.on("pageerror", lambda error: errors.append(str(error)))
    return page


def test_a_supervisor_monitors_whispers_and_takes_over(live_stack: LiveStack, browser: Browser) -> None:
    stack = live_stack
    alice = stack.online_seat("alice")
    # The supervisor has a seat of their own (away: assignment gives them no customer).
    boss_seat = stack.online_seat("boss", im=False)
    Seat.objects.filter(pk=boss_seat.pk).update(status=Seat.Status.AWAY, display_name="王经理")
    supervisor_create(username="boss", password="boss-pw")
    errors: list[str] = []

    console = _page(browser, stack, errors)
    console.goto("/console/")
    console.fill("input[name=username]", "alice")
    console.fill("input[name=password]", "alice-pw")
    console.click("button[type=submit]")
    expect(console.locator("#link-state")).to_have_attribute("data-state", "connected")

    customer = stack.new_customer()
    stack.im.say(customer, "你好")
    stack.im.wait_for_text(customer, "欢迎咨询")
    stack.im.say(customer, "转人工")
    stack.im.wait_for_text(customer, "Alice")
    console.locator(".session-item").first.click()
    expect(console.locator("#messages")).to_contain_text("转人工")
    session = ServiceSession.objects.get(customer__im_user_id=customer, state=ServiceSession.State.HUMAN)

    live = _page(browser, stack, errors)
    live.goto("/admin/login/?next=/admin/live/")
    live.fill("input[name=username]", "boss")
    live.fill("input[name=password]", "boss-pw")
    live.click("input[type=submit]")
    expect(live.locator("#cs-connection")).to_have_attribute("data-state", "live")
    live.locator(f'#cs-in-progress tr[data-session="{session.pk}"] button', has_text="监听").click()
    monitor = live.locator("#cs-monitor")
    expect(monitor).to_be_visible()
    expect(monitor.locator(".cs-monitor-state")).to_have_text("接待中：Alice")
    expect(monitor.locator(".cs-monitor-transcript")).to_contain_text("转人工")
    expect(monitor.locator("textarea[name=text]")).to_be_enabled()  # the whisper box, not a reply box

    # The customer writes: the message appears in the monitor as it arrives.
    stack.im.say(customer, "我的订单三天还没发货")
    expect(monitor.locator(".cs-monitor-in").last).to_contain_text("我的订单三天还没发货", timeout=5_000)
    shot(live, "supervisor-monitor-01-watching")

    # A whisper: the monitor and the servicer's console show it, marked; the customer never gets it.
    monitor.locator("textarea[name=text]").fill(WHISPER)
    monitor.get_by_role("button", name="发送悄悄话").click()
    expect(monitor.locator(".cs-monitor-whisper")).to_contain_text(WHISPER)
    expect(monitor.locator(".cs-monitor-whisper .cs-monitor-meta")).to_contain_text("王经理 的悄悄话")
    whispered = console.locator("#messages .msg-whisper")
    expect(whispered).to_contain_text(WHISPER, timeout=5_000)
    expect(whispered.locator(".msg-meta")).to_contain_text("主管 王经理 的悄悄话")
    shot(console, "supervisor-monitor-02-console-whisper")
    shot(live, "supervisor-monitor-03-whispered")
    stored = Message.objects.get(session=session, direction=Message.Direction.INTERNAL)
    assert (stored.author, stored.seat_id) == (Message.Author.SUPERVISOR, alice.pk)

    # Take over: a confirmation first; then the chat is the supervisor's.
    monitor.get_by_role("button", name="接管", exact=True).click()
    expect(monitor.locator(".cs-take-over-confirm")).to_be_visible()
    shot(live, "supervisor-monitor-04-take-over-confirm")
    monitor.get_by_role("button", name="立即接管").click()
    expect(monitor.locator(".cs-monitor-state")).to_have_text("接待中：王经理", timeout=5_000)
    stack.im.wait_for_text(customer, "王经理")
    expect(monitor.locator(".cs-monitor-yours")).to_be_visible()  # now answered in the console
    expect(monitor.locator(".cs-whisper-form")).to_be_hidden()
    expect(console.locator("#chat-ended")).to_contain_text("主管 王经理 接管了此会话", timeout=5_000)
    expect(live.locator(f'#cs-in-progress tr[data-session="{session.pk}"] td').nth(2)).to_have_text("王经理")
    shot(console, "supervisor-monitor-05-console-taken-over")
    shot(live, "supervisor-monitor-06-taken-over")

    session.refresh_from_db()
    assert session.seat_id == boss_seat.pk
    taken = session.events.get(kind=SessionEvent.Kind.TRANSFERRED)
    assert (taken.detail["by_supervisor"], taken.detail["take_over"]) == (True, True)
    assert Seat.objects.get(pk=alice.pk).active_sessions == 0
    assert Seat.objects.get(pk=boss_seat.pk).active_sessions == 1
    # By now every message for the customer has been delivered (the take-over's came after the
    # whisper): the whisper is in no IM inbox, the customer's nor the servicer's app.
    assert not any(WHISPER in text for text in stack.im.texts(customer))
    assert not any(WHISPER in text for text in stack.im.texts(alice.im_user_id))
    assert not re.search(WHISPER, str(stack.im.inbox(customer)))
    assert errors == []
