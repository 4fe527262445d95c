"""A newcomer's first journey on the demo's own stack (``manage.py run_demo``: embedded PostgreSQL and
Redis, sandbox, Daphne, worker and beat), in real Chromium: servicer1 transfers a customer with a
note to servicer2, whose open console shows it within a second and stays connected; both go on
chatting; the supervisor's live view shows the new owner. Screenshots go to test-artifacts/.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests
from playwright.sync_api import Browser, Locator, Page, expect

from tests.support.browser import shot
from tests.support.demo import RunningDemo, demo_running
from tests.support.im import SandboxIm

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

NOTE = "订单 12345 物流停滞，请协助补发"
# Every state the console's link goes through from now on, recorded in the page.
RECORD_LINK_STATES = """
window.linkStates = [];
new MutationObserver(() => window.linkStates.push(document.getElementById("link-state").dataset.state))
  .observe(document.getElementById("link-state"), { attributes: true, attributeFilter: ["data-state"] });
"""


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[RunningDemo]:
    with demo_running(tmp_path) as running:
        yield running


@dataclass
class Pages:
    opened: list[Page] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


@pytest.fixture
def pages(demo: RunningDemo) -> Iterator[Pages]:
    """The pages a test opens; none may raise an uncaught JavaScript error."""
    opened = Pages()
    yield opened
    for page in opened.opened:
        page.context.close()
    assert opened.errors == []


def _open(demo: RunningDemo, browser: Browser, pages: Pages) -> Page:
    context = browser.new_context(base_url=demo.url, locale="zh-CN", viewport={"width": 1440, "height": 860})
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.on("pageerror", lambda error: pages.errors.append(str(error)))
    pages.opened.append(page)
    return page


def _console(demo: RunningDemo, browser: Browser, pages: Pages, login: str) -> Page:
    page = _open(demo, browser, pages)
    page.goto("/console/")
    page.fill("input[name=username]", login)
    page.fill("input[name=password]", login)  # the demo's passwords equal the logins
    page.click("button[type=submit]")
    expect(page.locator("#link-state")).to_have_attribute("data-state", "connected")
    return page


def _customer(demo: RunningDemo, user_id: str, name: str) -> None:
    created = requests.post(
        f"{demo.robot_url}/sandbox/api/users", json={"userId": user_id, "displayName": name}, timeout=10
    )
    assert created.status_code in (200, 201), created.text


def _item(page: Page, user_id: str, name: str) -> Locator:
    # The name once the customer's IM profile is known, the IM id until then.
    return page.locator(".session-item", has_text=re.compile(f"{re.escape(name)}|{re.escape(user_id)}"))


def _send(page: Page, text: str) -> None:
    page.locator("#composer-input").fill(text)
    page.locator("#composer-input").press("Enter")


def test_servicer1_transfers_a_customer_to_servicer2_on_the_demo_stack(
    demo: RunningDemo, browser: Browser, pages: Pages
) -> None:
    im = SandboxIm(demo.robot_url)
    _customer(demo, "demo-wang", "王先生")
    _customer(demo, "demo-zhao", "赵女士")

    servicer2 = _console(demo, browser, pages, "servicer2")
    servicer2.locator(".status-switch [data-status=away]").click()  # new customers go to servicer1 for now
    expect(servicer2.locator(".status-switch [data-status=away]")).to_have_attribute("aria-checked", "true")
    servicer1 = _console(demo, browser, pages, "servicer1")

    for user_id in ("demo-wang", "demo-zhao"):
        im.say(user_id, "你好")
        im.wait_for_text(user_id, "欢迎")
        im.say(user_id, "转人工")
        im.wait_for_text(user_id, "请选择服务类型")  # the demo offers its skill groups
        im.say(user_id, "1")  # 售前咨询: servicer1's group
    wang1, zhao1 = _item(servicer1, "demo-wang", "王先生"), _item(servicer1, "demo-zhao", "赵女士")
    expect(wang1).to_be_visible()
    expect(zhao1).to_be_visible()
    wang1.click()
    im.say("demo-wang", "我的订单 12345 还没到")
    expect(servicer1.locator("#messages")).to_contain_text("我的订单 12345 还没到")
    _send(servicer1, "我帮您转给售后同事")
    im.wait_for_text("demo-wang", "我帮您转给售后同事")

    # servicer2 comes back online with the console open; from now on its link must not waver.
    servicer2.locator(".status-switch [data-status=online]").click()
    expect(servicer2.locator(".status-switch [data-status=online]")).to_have_attribute("aria-checked", "true")
    servicer2.evaluate(RECORD_LINK_STATES)

    servicer1.click("#transfer-button")
    servicer1.locator(".target", has_text="客服小李").click()
    servicer1.fill("#transfer-note", NOTE)
    shot(servicer1, "demo-01-transfer-dialog")
    servicer1.click("#transfer-confirm")
    transferred_at = time.monotonic()
    wang2 = _item(servicer2, "demo-wang", "王先生")
    wang2.wait_for(timeout=5_000)
    assert time.monotonic() - transferred_at < 1.0, "the transferred customer shows within a second"
    expect(servicer1.locator("#chat-ended")).to_contain_text("已转接给 客服小李")
    expect(wang1).to_have_count(0)
    expect(wang2).to_contain_text("转接")
    wang2.click()
    expect(servicer2.locator("#chat-note")).to_contain_text(NOTE)
    expect(servicer2.locator("#messages")).to_contain_text("我帮您转给售后同事")  # the whole transcript came along
    im.wait_for_text("demo-wang", "已转接给客服 客服小李")
    shot(servicer2, "demo-02-servicer2-receives")

    # Both go on chatting: servicer2 with the transferred customer, servicer1 with the other one.
    _send(servicer2, "您好，我是小李，已为您安排补发")
    im.wait_for_text("demo-wang", "已为您安排补发")
    im.say("demo-wang", "太好了，谢谢")
    expect(servicer2.locator("#messages")).to_contain_text("太好了，谢谢")
    zhao1.click()
    im.say("demo-zhao", "发票怎么开？")
    expect(servicer1.locator("#messages")).to_contain_text("发票怎么开？")
    _send(servicer1, "在订单详情页申请电子发票即可")
    im.wait_for_text("demo-zhao", "在订单详情页申请电子发票即可")
    shot(servicer1, "demo-03-servicer1-goes-on")

    # servicer2's console stayed connected the whole time.
    servicer2.wait_for_timeout(2_000)
    expect(servicer2.locator("#link-state")).to_have_attribute("data-state", "connected")
    assert servicer2.evaluate("window.linkStates") == [], "the link never left 'connected'"

    # The supervisor's live view shows the customer with the new owner.
    live = _open(demo, browser, pages)
    live.goto("/admin/login/?next=/admin/live/")
    live.fill("input[name=username]", "supervisor")
    live.fill("input[name=password]", "supervisor")
    live.click("input[type=submit]")
    expect(live.locator("#cs-connection")).to_have_attribute("data-state", "live")
    row = live.locator("#cs-in-progress tbody tr", has_text=re.compile("王先生|demo-wang"))
    expect(row).to_contain_text("客服小李")
    expect(live.locator("#cs-in-progress tbody tr", has_text=re.compile("赵女士|demo-zhao"))).to_contain_text(
        "客服小王"
    )
    shot(live, "demo-04-live-view")
