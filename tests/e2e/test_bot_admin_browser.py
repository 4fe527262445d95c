"""The "test the bot" page and a transcript's bot lines in real Chromium, served by Daphne, under
the Content-Security-Policy (the ``browser`` fixture fails the test on any violation)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, expect

from seats.services import supervisor_create
from sessions_app.flow.autoanswer import FaqAnswerer
from sessions_app.models import FaqEntry, Message, ServiceSession, ServiceSettings
from tests.factories import message_make, session_make
from tests.support.browser import shot

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


def test_a_supervisor_asks_the_bot_and_sees_why_it_answers(daphne: str, browser: Browser) -> None:
    supervisor_create(username="supervisor", password="supervisor-pw")
    returns = FaqEntry.objects.create(
        question="怎么退货", alternatives="如何退货\n退货流程", answer="七天内可在订单页申请退货。", rank=1
    )
    FaqEntry.objects.create(question="怎么开发票", alternatives="发票抬头怎么改", answer="在订单详情页申请。", rank=2)
    FaqEntry.objects.create(question="发货时间", alternatives="什么时候发货", answer="付款后 48 小时内发货。", rank=3)
    session = session_make(state=ServiceSession.State.CLOSED)
    message_make(session, "我想退货")
    answer = message_make(session, returns.answer, author=Message.Author.BOT)
    decision = FaqAnswerer.configured(ServiceSettings.load()).decide("我想退货", customer_id="c")
    Message.objects.filter(pk=answer.pk).update(bot_match=decision.detail())

    context = browser.new_context(base_url=daphne, locale="zh-CN", viewport={"width": 1360, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.goto("/admin/login/?next=/admin/sessions_app/faqentry/")
    page.fill("input[name=username]", "supervisor")
    page.fill("input[name=password]", "supervisor-pw")
    page.click("input[type=submit]")
    page.click(".object-tools >> text=测试机器人")
    expect(page).to_have_url(re.compile(r"/admin/sessions_app/faqentry/test/$"))
    page.fill("input[name=q]", "发票和退货的事")
    page.click(".cs-bot-test-form button[type=submit]")

    expect(page).to_have_url(re.compile(r"/test/\?q="))
    expect(page.locator("#cs-bot-outcome")).to_have_text("会给出推荐列表")
    rows = page.locator("#cs-bot-candidates tbody tr")
    expect(rows.nth(0)).to_contain_text("怎么退货")
    expect(rows.nth(0).locator(".cs-bot-word")).to_have_text("退货")
    expect(rows.nth(1)).to_contain_text("怎么开发票")
    expect(page.locator("#cs-bot-reply")).to_contain_text("1. 怎么退货\n2. 怎么开发票")
    shot(page, "bot-test-page")
    rows.nth(0).locator("a").click()
    expect(page).to_have_url(re.compile(rf"/admin/sessions_app/faqentry/{returns.pk}/change/$"))

    page.goto(f"/admin/sessions_app/servicesession/{session.pk}/change/")
    expect(page.locator("#messages-group .cs-bot-match")).to_contain_text("回答： 怎么退货 · 0.")
    page.locator("#messages-group").scroll_into_view_if_needed()
    shot(page, "bot-transcript")
    context.close()
