"""Find anything in real Chromium (Daphne alone on the test database): the chat list puts the
customer who has waited longest first, links in messages are clickable (http/https only), Ctrl+K
finds the servicer's own messages (never another servicer's) and opens an ended chat's transcript,
and 最近结束 lists the ended chats. Screenshots in test-artifacts/screenshots/.
"""

from __future__ import annotations

import pytest
from django.db.models import F
from django.utils import timezone
from playwright.sync_api import Page, expect

from seats.models import Seat
from seats.services import seat_create_with_user
from sessions_app.models import Customer, Message, ServiceSession
from tests.factories import customer_make, message_make, session_make
from tests.support.browser import shot

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


@pytest.fixture
def page(daphne_page: Page) -> Page:
    return daphne_page


def _customer(name: str) -> Customer:
    customer = customer_make()
    Customer.objects.filter(pk=customer.pk).update(display_name=name)
    customer.refresh_from_db()
    return customer


def _said(session: ServiceSession, text: str, *, minutes_ago: int, author: str = "customer") -> None:
    message = message_make(session, text, author=author)
    at = int(timezone.now().timestamp() * 1000) - minutes_ago * 60_000
    Message.objects.filter(pk=message.pk).update(server_timestamp=at)


def test_the_servicer_finds_opens_and_follows_links(page: Page) -> None:
    seat = seat_create_with_user(username="alice", password="alice-pw", display_name="Alice", im_user_id="alice-im")
    bob = seat_create_with_user(username="bob", password="bob-pw", display_name="Bob", im_user_id="bob-im")
    recent = session_make(seat=seat, customer=_customer("李雷"))
    _said(
        recent, "请问什么时候发货？详情见 https://shop.example.com/help?x=1 ，不是 javascript:alert(1)", minutes_ago=1
    )
    longest = session_make(seat=seat, customer=_customer("韩梅梅"))
    _said(longest, "在吗？等了好久了", minutes_ago=9)
    Seat.objects.filter(pk=seat.pk).update(active_sessions=F("active_sessions") + 2)
    ended = session_make(seat=seat, customer=_customer("老客户王先生"), state=ServiceSession.State.CLOSED)
    _said(ended, "上次的退款已经到账了吗", minutes_ago=60 * 24)
    _said(ended, "已经原路退回，请查收", minutes_ago=60 * 24 - 1, author="servicer")
    theirs = session_make(seat=bob, customer=_customer("别人的客户"), state=ServiceSession.State.CLOSED)
    _said(theirs, "我的退款已经到账了吗", minutes_ago=30)

    page.goto("/console/")
    page.fill("input[name=username]", "alice")
    page.fill("input[name=password]", "alice-pw")
    page.click("button[type=submit]")
    expect(page.locator("#link-state")).to_have_attribute("data-state", "connected")

    # 1. The customer who has waited longest comes first.
    names = page.locator(".session-item .session-name")
    expect(names).to_have_text(["韩梅梅", "李雷"])

    # 2. Links: http(s) only, in a new tab without opener or referrer; the rest stays text.
    page.locator(".session-item", has_text="李雷").click()
    link = page.locator("#messages a.msg-link")
    expect(link).to_have_count(1)
    expect(link).to_have_attribute("href", "https://shop.example.com/help?x=1")
    expect(link).to_have_attribute("rel", "noopener noreferrer")
    expect(link).to_have_attribute("target", "_blank")
    expect(page.locator("#messages")).to_contain_text("不是 javascript:alert(1)")
    assert page.locator("#messages a[href^='javascript']").count() == 0
    shot(page, "find-01-longest-waiting-first-and-a-link")

    # 3. Ctrl+K, type: the servicer's own ended chat is found, never another servicer's.
    page.keyboard.press("Control+k")
    dialog = page.locator("#find-dialog")
    expect(dialog).to_be_visible()
    expect(page.locator("#find-input")).to_be_focused()
    page.keyboard.type("退款已经")
    hits = page.locator("#find-results .find-hit")
    expect(hits).to_have_count(1)
    expect(hits.first).to_contain_text("老客户王先生")
    expect(hits.first).to_contain_text("上次的退款已经到账了吗")
    expect(page.locator("#find-results")).not_to_contain_text("别人的客户")
    shot(page, "find-02-ctrl-k-results")

    # 4. Opening it shows the ended chat's transcript, read only.
    hits.first.click()
    transcript = page.locator("#find-transcript")
    expect(transcript).to_be_visible()
    expect(page.locator("#find-transcript-title")).to_have_text("老客户王先生")
    expect(transcript).to_contain_text("已经原路退回，请查收")
    expect(page.locator("#find-transcript-meta")).to_contain_text("已结束的会话，只读。")
    shot(page, "find-03-ended-transcript")

    # 5. A chat in progress opens in the console itself.
    page.locator("#find-back").click()
    page.locator("#find-input").fill("什么时候发货")
    in_progress = page.locator("#find-results .find-hit", has_text="李雷")
    expect(in_progress).to_have_count(1)
    expect(in_progress).to_contain_text("进行中")
    in_progress.click()
    expect(dialog).to_be_hidden()
    expect(page.locator("#chat-name")).to_have_text("李雷")

    # 6. 最近结束: the ended chats, each opening its transcript.
    page.locator("#ended-button").click()
    ended_list = page.locator("#find-ended")
    expect(ended_list).to_contain_text("最近结束")
    expect(ended_list.locator(".find-hit")).to_have_count(1)
    expect(ended_list).to_contain_text("老客户王先生")
    shot(page, "find-04-recently-ended")
    ended_list.locator(".find-hit").first.click()
    expect(page.locator("#find-transcript")).to_contain_text("上次的退款已经到账了吗")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
