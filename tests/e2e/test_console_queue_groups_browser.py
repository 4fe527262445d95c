"""The queue panel's skill-group filter and marks in real Chromium against the real processes: a
servicer of 售后服务 sees three waiting customers (售后服务, 发票, no group), filters the queue to
one group at a time, and sees marked the customers "Take next" may give her (her group's and the
ungrouped one), not the 发票 customer until 发票's overflow time has passed. Screenshots go to
test-artifacts/screenshots/.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, expect

from seats.models import Seat, SkillGroup
from sessions_app.models import Customer, Message, ServiceSession
from tests.support.browser import shot
from tests.support.stack import LiveStack

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


def _waiting(name: str, group: SkillGroup | None, minutes_ago: int, text: str) -> ServiceSession:
    customer = Customer.objects.create(im_user_id=f"queue-{name}", display_name=name)
    session = ServiceSession.objects.create(
        customer=customer,
        state=ServiceSession.State.QUEUED,
        skill_group=group,
        queued_at=timezone.now() - timedelta(minutes=minutes_ago),
        last_seq=1,
    )
    Message.objects.create(
        session=session,
        seq=1,
        direction=Message.Direction.IN,
        author=Message.Author.CUSTOMER,
        content_type=1,
        payload={"type": 1, "searchableContent": text},
        server_timestamp=int(timezone.now().timestamp() * 1000),
    )
    return session


def test_the_queue_filters_by_skill_group_and_marks_the_customers_the_seat_serves(
    live_stack: LiveStack, browser: Browser
) -> None:
    stack = live_stack
    after_sales = SkillGroup.objects.create(name="售后服务", menu_order=1)
    billing = SkillGroup.objects.create(name="发票", menu_order=2)
    carol = stack.online_seat("carol", im=False)
    carol.skill_groups.add(after_sales)
    # No room: neither the drain nor anyone else takes the customers while she looks at them.
    Seat.objects.filter(pk=carol.pk).update(capacity=0)
    _waiting("退货的顾客", after_sales, 9, "我要退货")
    _waiting("发票的顾客", billing, 8, "发票抬头写错了")
    _waiting("随便的顾客", None, 7, "在吗")

    errors: list[str] = []
    context = browser.new_context(base_url=stack.url, locale="zh-CN", viewport={"width": 1440, "height": 860})
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto("/console/")
    page.fill("input[name=username]", "carol")
    page.fill("input[name=password]", "carol-pw")
    page.click("button[type=submit]")
    expect(page.locator("#link-state")).to_have_attribute("data-state", "connected")

    rows = page.locator(".queue-item")
    expect(rows).to_have_count(3)
    expect(page.locator("#queue-filter-bar")).to_be_visible()
    # All groups, her one group, no group: not 发票, a group she is not in.
    expect(page.locator("#queue-filter option")).to_have_text(["全部技能组", "售后服务", "未选技能组"])
    expect(page.locator(".queue-item-mine")).to_have_count(2)
    expect(page.locator(".queue-item-mine .queue-mine")).to_have_text(["可接待", "可接待"])
    other = page.locator(".queue-item-other")
    expect(other).to_have_count(1)
    expect(other).to_contain_text("发票的顾客")
    shot(page, "queue-groups-01-all")

    page.select_option("#queue-filter", label="售后服务")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("退货的顾客")
    expect(rows.first).to_contain_text("我要退货")
    expect(page.locator("#queue-count")).to_have_text("3")  # the queue, not the filtered rows
    shot(page, "queue-groups-02-after-sales")

    page.select_option("#queue-filter", label="未选技能组")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("随便的顾客")

    # The filter stays while the queue changes: the ungrouped customer leaves, nobody matches.
    ServiceSession.objects.filter(customer__im_user_id="queue-随便的顾客").update(
        state=ServiceSession.State.CLOSED, closed_at=timezone.now()
    )
    # And 发票 now lets any seat take its customers after 5 minutes: hers in 8 seconds.
    SkillGroup.objects.filter(pk=billing.pk).update(overflow_minutes=5)
    ServiceSession.objects.filter(customer__im_user_id="queue-发票的顾客").update(
        queued_at=timezone.now() - timedelta(minutes=5) + timedelta(seconds=8)
    )
    page.evaluate("window.ConsoleApp.queue.reloadSoon()")
    expect(rows).to_have_count(0)
    expect(page.locator("#queue-filtered-empty")).to_be_visible()
    expect(page.locator("#queue-empty")).to_be_hidden()

    page.select_option("#queue-filter", label="全部技能组")
    expect(rows).to_have_count(2)
    expect(other).to_have_count(1)
    # The mark follows the clock: once 发票 overflows, the customer is one "Take next" may give her.
    expect(other).to_have_count(0, timeout=15_000)
    expect(page.locator(".queue-item-mine")).to_have_count(2)
    assert errors == []
