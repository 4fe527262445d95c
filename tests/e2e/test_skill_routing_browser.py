"""Routing by skill group in real Chromium against the real processes (Daphne, a Celery worker and
beat, the outbox deliverer) with the sandbox as IM server: a customer asks for a person, gets the
menu of services, picks 售后服务 and lands in the console of the 售后 servicer, not in the other
one's, although the other is as free and would come first without groups. The supervisor's live view
shows the session's group. Screenshots go to test-artifacts/screenshots/.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Browser, Page, expect

from seats.models import SkillGroup
from sessions_app.models import ServiceSession, ServiceSettings
from tests.support.browser import shot
from tests.support.stack import LiveStack

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


def _console(browser: Browser, stack: LiveStack, username: str, errors: list[str]) -> Page:
    context = browser.new_context(base_url=stack.url, locale="zh-CN", viewport={"width": 1440, "height": 860})
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto("/console/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", f"{username}-pw")
    page.click("button[type=submit]")
    expect(page.locator("#link-state")).to_have_attribute("data-state", "connected")
    return page


def test_a_customer_who_picks_after_sales_reaches_the_after_sales_servicer(
    live_stack: LiveStack, browser: Browser, supervisor: User
) -> None:
    stack = live_stack
    config = ServiceSettings.load()
    config.skill_group_menu_enabled = True
    config.save()
    pre_sales = SkillGroup.objects.create(name="售前咨询", menu_order=1)
    after_sales = SkillGroup.objects.create(name="售后服务", keywords="售后", menu_order=2)
    # Created first, Presale would win the tie between two idle seats if the customer chose no group.
    presale = stack.online_seat("presale")
    aftersale = stack.online_seat("aftersale")
    presale.skill_groups.add(pre_sales)
    aftersale.skill_groups.add(after_sales)
    errors: list[str] = []
    presale_page = _console(browser, stack, "presale", errors)
    aftersale_page = _console(browser, stack, "aftersale", errors)

    customer = stack.new_customer()
    stack.im.say(customer, "你好")
    stack.im.wait_for_text(customer, "欢迎咨询")
    stack.im.say(customer, "转人工")
    menu = stack.im.wait_for_text(customer, "请选择服务类型")
    assert menu["payload"]["searchableContent"].endswith("1. 售前咨询\n2. 售后服务")
    stack.im.say(customer, "2")
    stack.im.wait_for_text(customer, "客服 Aftersale 为您服务")

    chat = aftersale_page.locator(".session-item")
    expect(chat).to_have_count(1)
    expect(chat.first).to_contain_text(f"顾客{customer[-4:]}")
    chat.first.click()
    expect(aftersale_page.locator("#messages")).to_contain_text("请选择服务类型")
    aftersale_page.locator("#composer-input").fill("您好，售后服务为您处理")
    aftersale_page.locator("#composer-input").press("Enter")
    stack.im.wait_for_text(customer, "售后服务为您处理")
    shot(aftersale_page, "skill-routing-01-after-sales-console")
    expect(presale_page.locator(".session-item")).to_have_count(0)
    shot(presale_page, "skill-routing-02-pre-sales-console-empty")

    session = ServiceSession.objects.get(customer__im_user_id=customer)
    assert (session.seat_id, session.skill_group_id) == (aftersale.pk, after_sales.pk)

    # The supervisor's live view says which group the chat belongs to.
    live = browser.new_context(base_url=stack.url, locale="zh-CN", viewport={"width": 1440, "height": 860})
    live_page = live.new_page()
    live_page.on("pageerror", lambda error: errors.append(str(error)))
    live_page.goto("/admin/login/?next=/admin/live/")
    live_page.fill("input[name=username]", supervisor.username)
    live_page.fill("input[name=password]", "sup-password")
    live_page.click("input[type=submit]")
    row = live_page.locator(f"#cs-in-progress tr[data-session='{session.pk}']")
    expect(row).to_contain_text("售后服务")
    expect(row).to_contain_text("Aftersale")
    shot(live_page, "skill-routing-03-live-view")
    assert errors == []
