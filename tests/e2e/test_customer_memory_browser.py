"""The customer, remembered, in real Chromium against the real processes: the new customer's IM name
from the first moment, a tag and a note in the side panel, and the wrap-up that ends the chat (required
by the settings here). Screenshots go to test-artifacts/screenshots/."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from pytest_django.fixtures import Settings as SettingsWrapper

from seats.models import Seat
from seats.services import seat_create_with_user
from sessions_app.models import Customer, CustomerNote, ServiceSession, ServiceSettings, SessionWrapUp, Tag
from tests.support.browser import shot
from tests.support.sandbox import Sandbox
from tests.support.stack import LiveStack, stack_running

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


@pytest.fixture
def console_stack(
    sandbox: Sandbox, settings: SettingsWrapper, transactional_db: None, tmp_path: Path
) -> Iterator[LiveStack]:
    with stack_running(sandbox=sandbox, settings=settings, tmp_path=tmp_path) as stack:
        yield stack


@pytest.fixture
def page_errors() -> Iterator[list[str]]:
    errors: list[str] = []
    yield errors
    assert errors == []


def _log_in(browser: Browser, stack: LiveStack, errors: list[str], username: str) -> Page:
    context = browser.new_context(base_url=stack.url, locale="zh-CN", viewport={"width": 1440, "height": 900})
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto("/console/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", f"{username}-pw")
    page.click("button[type=submit]")
    expect(page.locator("#link-state")).to_have_attribute("data-state", "connected")
    return page


def test_a_servicer_tags_notes_and_wraps_up_a_new_customer(
    console_stack: LiveStack, browser: Browser, page_errors: list[str]
) -> None:
    stack = console_stack
    alice = seat_create_with_user(
        username="alice", password="alice-pw", display_name="Alice", im_user_id="alice-im", capacity=3
    )
    stack.admin.create_user(user_id=alice.im_user_id, name=alice.im_user_id, display_name="Alice")
    Tag.objects.create(name="VIP客户")  # in use already: the autocomplete offers it
    settings_row = ServiceSettings.load()
    settings_row.wrap_up_required = True
    settings_row.save()
    customer = stack.new_customer()
    customer_name = f"顾客{customer[-4:]}"

    page = _log_in(browser, stack, page_errors, "alice")
    expect(page.locator(".status-switch [data-status=online]")).to_have_attribute("aria-checked", "true")
    # A customer never served before: their IM name, never their IM id, in the list and the panel.
    stack.im.say(customer, "转人工")
    item = page.locator(".session-item", has_text=customer_name)
    expect(item).to_be_visible()
    expect(page.locator("#toasts")).to_contain_text(f"新客户: {customer_name}")
    expect(page.locator("#toasts")).not_to_contain_text(customer)
    expect(page.locator(".session-item", has_text=customer)).to_have_count(0)
    item.click()
    expect(page.locator("#customer-name")).to_have_text(customer_name)
    expect(page.locator("#customer-im")).to_have_text(customer)
    expect(page.locator("#customer-notes")).to_contain_text("还没有备注")

    # A tag picked from the ones in use, and a new one.
    tag_input = page.locator("#tag-input")
    tag_input.fill("vip")
    expect(page.locator("#tag-options option[value='VIP客户']")).to_have_count(1)
    tag_input.fill("VIP客户")
    tag_input.press("Enter")
    expect(page.locator("#customer-tags .chip-name")).to_have_text(["VIP客户"])
    tag_input.fill("催发货")
    page.locator("#tag-form button[type=submit]").click()
    expect(page.locator("#customer-tags .chip-name")).to_have_text(["VIP客户", "催发货"])

    # A note, corrected by its author.
    page.fill("#note-input", "客户要求周五前发货")
    page.click("#note-add")
    note = page.locator("#customer-notes .note")
    expect(note).to_have_count(1)
    expect(note).to_contain_text("Alice")
    note.locator("button", has_text="编辑").click()
    note.locator("textarea").fill("客户要求周四前发货，已承诺")
    note.locator("button", has_text="保存").click()
    expect(note.locator(".note-text")).to_have_text("客户要求周四前发货，已承诺")
    expect(note).to_contain_text("已编辑")
    shot(page, "customer-01-tags-and-notes")

    # Ending asks for the wrap-up; the settings require one, so an empty one is refused.
    page.click("#end-button")
    dialog = page.locator("#end-dialog")
    expect(dialog.locator("#wrap-up-required")).to_be_visible()
    page.click("#end-confirm")
    expect(page.locator("#end-error")).to_have_text("需要填写小结：至少添加一个标签或写一句总结才能结束会话。")
    assert ServiceSession.objects.get(customer__im_user_id=customer).state == ServiceSession.State.HUMAN
    wrap_tag = page.locator("#wrap-up-tag-input")
    wrap_tag.fill("物流")
    wrap_tag.press("Enter")
    wrap_tag.fill("已解决")
    wrap_tag.press("Enter")
    expect(page.locator("#wrap-up-tags .chip-name")).to_have_text(["物流", "已解决"])
    page.fill("#wrap-up-summary", "催发货，已承诺周四前发出")
    shot(page, "customer-02-wrap-up")
    page.click("#end-confirm")
    expect(dialog).to_be_hidden()
    expect(page.locator("#chat-ended")).to_contain_text("会话已结束")
    expect(page.locator("#wrap-up-button")).to_be_hidden()  # written already
    stack.im.wait_for_text(customer, "请为本次服务打分")
    shot(page, "customer-03-ended")

    session = ServiceSession.objects.get(customer__im_user_id=customer)
    assert session.close_reason == ServiceSession.CloseReason.SERVICER_END
    wrap_up = SessionWrapUp.objects.get(session=session)
    assert (wrap_up.summary, wrap_up.seat_id) == ("催发货，已承诺周四前发出", alice.pk)
    assert sorted(wrap_up.tags.values_list("name", flat=True)) == ["已解决", "物流"]
    remembered = Customer.objects.get(im_user_id=customer)
    assert remembered.display_name == customer_name
    assert sorted(remembered.tags.values_list("name", flat=True)) == ["VIP客户", "催发货"]
    assert list(CustomerNote.objects.filter(customer=remembered).values_list("text", flat=True)) == [
        "客户要求周四前发货，已承诺"
    ]
    assert Seat.objects.get(pk=alice.pk).active_sessions == 0

    # A chat the customer ends: the servicer writes its wrap-up afterwards.
    leaver = stack.new_customer()
    stack.im.say(leaver, "转人工")
    page.locator(".session-item", has_text=f"顾客{leaver[-4:]}").click()
    stack.im.say(leaver, "结束会话")
    expect(page.locator("#chat-ended")).to_contain_text("会话已结束")
    page.click("#wrap-up-button")
    expect(page.locator("#end-title")).to_have_text("填写会话小结")
    expect(page.locator("#wrap-up-required")).to_be_hidden()
    page.fill("#wrap-up-summary", "客户自行结束，问题未说明")
    page.click("#end-confirm")
    expect(page.locator("#toasts")).to_contain_text("小结已保存")
    expect(page.locator("#wrap-up-button")).to_be_hidden()
    left = SessionWrapUp.objects.get(session__customer__im_user_id=leaver)
    assert (left.summary, left.session.close_reason) == (
        "客户自行结束，问题未说明",
        ServiceSession.CloseReason.CUSTOMER_EXIT,
    )
