"""The servicer console in real Chromium, against the real processes (Daphne, a Celery worker and
beat on the test database) and the sandbox as IM server. Screenshots of every step go to
test-artifacts/screenshots/, which the test run keeps.
"""

from __future__ import annotations

import os
import re
import signal
import struct
import time
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from playwright.sync_api import Browser, BrowserContext, FilePayload, Locator, Page, expect
from pytest_django.fixtures import Settings as SettingsWrapper

from robots.models import Robot
from robots.wfprotocol import CsControl, text_payload
from seats.models import Seat
from seats.services import seat_create_with_user
from sessions_app.flow.servicer import servicer_reply
from sessions_app.models import CannedReply, ServiceSession
from tests.support.browser import shot
from tests.support.sandbox import Sandbox
from tests.support.stack import LiveStack, stack_running, start_asgi

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


def _png(width: int = 160, height: int = 100) -> bytes:
    """A small gradient PNG, as a servicer's screenshot would be."""
    rows = b"".join(
        b"\x00" + bytes(channel for x in range(width) for channel in (40 + x // 2, 110 + y, 230)) for y in range(height)
    )

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


PNG = _png()


@pytest.fixture
def console_stack(
    sandbox: Sandbox, settings: SettingsWrapper, transactional_db: None, tmp_path: Path
) -> Iterator[LiveStack]:
    with stack_running(sandbox=sandbox, settings=settings, tmp_path=tmp_path) as stack:
        yield stack


@pytest.fixture
def page_errors() -> Iterator[list[str]]:
    """Uncaught JavaScript errors of every page the test opens: there must be none."""
    errors: list[str] = []
    yield errors
    assert errors == []


def _page(browser: Browser, stack: LiveStack, errors: list[str]) -> Page:
    context: BrowserContext = browser.new_context(
        base_url=stack.url, locale="zh-CN", viewport={"width": 1440, "height": 860}, permissions=["notifications"]
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.on("pageerror", lambda error: errors.append(str(error)))
    return page


def _log_in(page: Page, username: str) -> None:
    page.goto("/console/")
    expect(page).to_have_url(re.compile(r"/console/login/\?next=/console/$"))
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", f"{username}-pw")
    page.click("button[type=submit]")
    expect(page.locator("#link-state")).to_have_attribute("data-state", "connected")
    expect(_status_button(page, "online")).to_have_attribute("aria-checked", "true")  # signing in puts it online


def _status_button(page: Page, status: str) -> Locator:
    return page.locator(f".status-switch [data-status={status}]")


def _switch(page: Page, status: str) -> None:
    _status_button(page, status).click()
    expect(_status_button(page, status)).to_have_attribute("aria-checked", "true")


def _seat(stack: LiveStack, username: str) -> Seat:
    seat = seat_create_with_user(
        username=username, password=f"{username}-pw", display_name=username.title(), im_user_id=f"{username}-im"
    )
    stack.admin.create_user(user_id=seat.im_user_id, name=seat.im_user_id, display_name=seat.display_name)
    return seat


def _session_item(page: Page, customer_name: str) -> Locator:
    return page.locator(".session-item", has_text=customer_name)


def test_two_servicers_serve_a_customer_from_the_console(
    console_stack: LiveStack, browser: Browser, page_errors: list[str]
) -> None:
    stack = console_stack
    alice = _seat(stack, "alice")
    bob = _seat(stack, "bob")
    CannedReply.objects.create(shortcut="hi", text="您好，很高兴为您服务，请问有什么可以帮您？")
    customer = stack.new_customer()
    customer_name = f"顾客{customer[-4:]}"

    alice_page = _page(browser, stack, page_errors)
    alice_page.goto("/console/")
    shot(alice_page, "01-login")
    _log_in(alice_page, "alice")
    bob_page = _page(browser, stack, page_errors)
    _log_in(bob_page, "bob")
    _switch(bob_page, "away")  # Bob takes no new customers for now
    expect(bob_page.locator("#session-empty")).to_contain_text("您处于离开状态")
    alice_page.click("#alerts-button")
    shot(alice_page, "02-alice-online-waiting")

    # The customer asks for a human and shows up in Alice's console within a second.
    stack.im.say(customer, "你好")
    stack.im.wait_for_text(customer, "欢迎咨询")
    asked = time.monotonic()
    stack.im.say(customer, "转人工")
    alice_page.locator(".session-item").first.wait_for(timeout=5_000)
    assert time.monotonic() - asked < 1.0, "a new customer appears in the console within a second"
    expect(bob_page.locator(".session-item")).to_have_count(0)
    shot(alice_page, "03-new-customer")

    # They chat both ways.
    alice_page.locator(".session-item").first.click()
    stack.im.say(customer, "我的订单 12345 还没到")
    expect(alice_page.locator("#messages")).to_contain_text("我的订单 12345 还没到")
    composer = alice_page.locator("#composer-input")
    composer.fill("/hi")
    expect(alice_page.locator(".canned-option")).to_have_count(1)
    shot(alice_page, "04-canned-reply-picker")
    composer.press("Enter")
    expect(composer).to_have_value("您好，很高兴为您服务，请问有什么可以帮您？")
    composer.press("Enter")
    stack.im.wait_for_text(customer, "很高兴为您服务")
    composer.fill("我来帮您查一下物流")
    composer.press("Enter")
    stack.im.wait_for_text(customer, "我来帮您查一下物流")
    # Alice also answers from her Wildfire app: the console shows it in the same transcript.
    shadow = Robot.objects.get(shadow_of=customer).robot_id
    stack.im.say(alice.im_user_id, "（手机上回复）稍等一下", to=shadow)
    expect(alice_page.locator("#messages")).to_contain_text("（手机上回复）稍等一下")
    stack.im.wait_for_text(customer, "稍等一下")
    screenshot: FilePayload = {"name": "物流截图.png", "mimeType": "image/png", "buffer": PNG}
    alice_page.set_input_files("#file-input", files=[screenshot])
    image = stack.im.wait_for(
        customer, lambda ms: any(m["payload"]["type"] == 3 for m in ms), what="the image from the console"
    )
    image_url = next(m for m in image if m["payload"]["type"] == 3)["payload"]["remoteMediaUrl"]
    assert image_url.startswith(f"{stack.url}/media/console/")
    assert requests.get(image_url, timeout=5).content == PNG
    expect(alice_page.locator("#messages .bubble .image img")).to_have_count(1)
    # A link from the customer's side is followed only if it is http(s).
    hostile = {"type": 5, "searchableContent": "发票.pdf", "remoteMediaUrl": "javascript:alert(1)", "persistFlag": 3}
    stack.im.client_send(sender=customer, target="cs_robot", payload=hostile)
    expect(alice_page.locator("#messages .file", has_text="发票.pdf")).not_to_have_attribute("href", re.compile("."))
    stack.im.say(customer, "好的，谢谢")
    expect(alice_page.locator("#messages")).to_contain_text("好的，谢谢")
    shot(alice_page, "05-chatting")

    # Alice transfers to Bob with a note; Bob continues in the same transcript.
    _switch(bob_page, "online")
    alice_page.click("#transfer-button")
    alice_page.locator(".target", has_text="Bob").click()
    alice_page.fill("#transfer-note", "订单 12345 物流停滞，请协助补发")
    shot(alice_page, "06-transfer-dialog")
    alice_page.click("#transfer-confirm")
    expect(alice_page.locator("#chat-ended")).to_contain_text("已转接给 Bob")
    expect(alice_page.locator(".session-item")).to_have_count(0)
    bob_item = _session_item(bob_page, customer_name)
    expect(bob_item).to_be_visible()
    expect(bob_item).to_contain_text("转接")
    shot(bob_page, "07-bob-receives-transfer")
    bob_item.click()
    expect(bob_page.locator("#chat-note")).to_contain_text("订单 12345 物流停滞，请协助补发")
    expect(bob_page.locator("#messages")).to_contain_text("我来帮您查一下物流")
    stack.im.wait_for_text(customer, "已转接给客服 Bob")
    stack.im.wait_for_text(bob.im_user_id, "备注：订单 12345 物流停滞")
    bob_page.locator("#composer-input").fill("您好，我是 Bob，已为您安排补发")
    bob_page.locator("#composer-input").press("Enter")
    stack.im.wait_for_text(customer, "已为您安排补发")
    stack.im.say(customer, "太好了")
    expect(bob_page.locator("#messages")).to_contain_text("太好了")
    expect(bob_page.locator("#history")).to_contain_text("没有更早的会话")
    shot(bob_page, "08-bob-continues")

    # Bob ends the session; the customer is asked to rate.
    bob_page.click("#end-button")
    shot(bob_page, "09-end-confirm")
    bob_page.click("#end-confirm")
    expect(bob_page.locator("#chat-ended")).to_be_visible()
    expect(bob_page.locator(".session-item")).to_have_count(0)
    stack.im.wait_for_text(customer, "请为本次服务打分")
    stack.im.wait_for(
        customer,
        lambda ms: any(m["payload"]["type"] == CsControl.RATING_REQUEST for m in ms),
        what="the rating request for modified clients",
    )
    shot(bob_page, "10-ended")


def test_the_console_reconnects_and_catches_up_after_the_server_restarts(
    console_stack: LiveStack, browser: Browser, page_errors: list[str]
) -> None:
    stack = console_stack
    alice = _seat(stack, "alice")
    customer = stack.new_customer()
    page = _page(browser, stack, page_errors)
    _log_in(page, "alice")
    stack.im.say(customer, "转人工")
    page.locator(".session-item").first.click()
    stack.im.say(customer, "第一条")
    expect(page.locator("#messages")).to_contain_text("第一条")

    # The ASGI server dies. Meanwhile a reply reaches the transcript another way (here the test
    # calls the service, as a second server process would for the servicer's IM app).
    asgi = stack.processes["asgi"]
    os.killpg(asgi.pid, signal.SIGKILL)
    asgi.wait(timeout=10)
    expect(page.locator("#link-state")).to_have_attribute("data-state", "reconnecting")
    shot(page, "11-reconnecting")
    session = ServiceSession.objects.get(customer__im_user_id=customer)
    servicer_reply(session_id=session.pk, seat=alice, payload=text_payload("断线期间发出的回复"))
    port = int(stack.url.rsplit(":", 1)[1])
    start_asgi(stack, stack.exits, name="asgi-again", port=port)
    expect(page.locator("#link-state")).to_have_attribute("data-state", "connected", timeout=20_000)
    expect(page.locator("#messages")).to_contain_text("断线期间发出的回复")
    expect(page.locator("#messages li", has_text="第一条")).to_have_count(1)
    stack.im.wait_for_text(customer, "断线期间发出的回复")
    shot(page, "12-reconnected")
