"""Left messages in the servicer console, in real Chromium against Daphne on the test database:
the panel loads with the console, a new message arrives live, the servicer marks one handled and
another servicer's mark removes the rest. Screenshots go to test-artifacts/screenshots/.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from seats.models import Seat
from seats.services import seat_create_with_user
from sessions_app.flow.left_messages import left_message_created, left_messages_mark_handled
from sessions_app.models import Customer, LeftMessage
from tests.support.browser import shot

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


@pytest.fixture
def page(daphne_page: Page) -> Page:
    return daphne_page


def _leave(im_user_id: str, name: str, text: str) -> LeftMessage:
    customer = Customer.objects.create(im_user_id=im_user_id, display_name=name)
    message = LeftMessage.objects.create(customer=customer, text=text)
    left_message_created(left_message=message)
    return message


def test_a_servicer_sees_left_messages_and_marks_one_handled(page: Page) -> None:
    alice = seat_create_with_user(username="alice", password="alice-pw", display_name="Alice", im_user_id="alice-im")
    bob = seat_create_with_user(username="bob", password="bob-pw", display_name="Bob", im_user_id="bob-im")
    first = _leave("wx-1001", "王女士", "发票抬头写错了，明天上午请给我回个电话。")

    page.goto("/console/")
    page.fill("input[name=username]", "alice")
    page.fill("input[name=password]", "alice-pw")
    page.click("button[type=submit]")
    expect(page.locator("#link-state")).to_have_attribute("data-state", "connected")
    badge = page.locator("#left-count")
    expect(badge).to_have_text("1")  # loaded with the console, before the tab is opened
    page.click("#tab-left")
    items = page.locator(".left-item")
    expect(items).to_have_count(1)
    expect(items.first).to_contain_text("王女士")
    expect(items.first).to_contain_text("wx-1001")
    expect(items.first).to_contain_text("发票抬头写错了")

    # A customer leaves a message while the console is open: it appears without a reload.
    _leave("wx-1002", "李先生", "快递一直没有更新，麻烦查一下。")
    expect(badge).to_have_text("2")
    expect(items).to_have_count(2)
    expect(items.nth(1)).to_contain_text("李先生")  # oldest first
    expect(page.locator(".toast", has_text="李先生 的新留言")).to_be_visible()
    shot(page, "left-messages-01-panel")

    items.first.get_by_role("button", name="标记已处理").click()
    expect(page.locator(".toast", has_text="已标记为已处理")).to_be_visible()
    expect(items).to_have_count(1)
    expect(items.first).to_contain_text("李先生")
    expect(badge).to_have_text("1")
    first.refresh_from_db()
    assert first.handled_by_id == alice.pk
    assert first.handled_at is not None
    shot(page, "left-messages-02-handled")

    # Bob handles the other one from his own console: it leaves Alice's list live.
    remaining = LeftMessage.objects.get(handled_at__isnull=True)
    left_messages_mark_handled(message_ids=[remaining.pk], seat=bob)
    expect(items).to_have_count(0)
    expect(page.locator("#left-empty")).to_be_visible()
    expect(badge).to_be_hidden()
    page.click("#tab-sessions")
    expect(page.locator("#sessions-panel")).to_be_visible()
    expect(page.locator("#tab-sessions")).to_have_attribute("aria-selected", re.compile("true"))
    assert Seat.objects.get(pk=alice.pk).status == Seat.Status.ONLINE
    shot(page, "left-messages-03-empty")
