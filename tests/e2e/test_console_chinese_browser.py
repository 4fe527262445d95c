"""The servicer's console in real Chromium and in Chinese (Daphne alone on the test database): the
page, a chat, the dialogs a servicer opens (transfer, end, search, recently ended,
API tokens, shortcuts) and the left messages show no English text. Screenshots in
test-artifacts/screenshots/.
"""

from __future__ import annotations

import re

import pytest
from django.db.models import F
from playwright.sync_api import Page, expect

from seats.models import Seat
from seats.services import seat_create_with_user
from sessions_app.models import Customer, LeftMessage, ServiceSession
from tests.factories import customer_make, message_make, session_make
from tests.support.browser import english_on_page, shot

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

# Latin words the console may show in Chinese: logins, names, IM ids, keys, the language switch (English).
ALLOWED_LATIN = re.compile(
    r"^(alice|Alice|Bob|English|customer-\d+|wx-[\w-]+|IM|API|URL|Ctrl|Enter|Shift|Esc|Tab|Alt|PgUp|PgDn|Token)$"
)


def _customer(name: str) -> Customer:
    customer = customer_make()
    Customer.objects.filter(pk=customer.pk).update(display_name=name)
    customer.refresh_from_db()
    return customer


def test_a_chinese_servicer_meets_no_english_in_the_console(daphne_page: Page) -> None:
    page = daphne_page
    seat = seat_create_with_user(username="alice", password="alice-pw", display_name="Alice", im_user_id="alice-im")
    seat_create_with_user(username="bob", password="bob-pw", display_name="Bob", im_user_id="bob-im")
    Seat.objects.filter(im_user_id="bob-im").update(status=Seat.Status.ONLINE)
    chat = session_make(seat=seat, customer=_customer("李雷"))
    message_make(chat, "请问什么时候发货？")
    Seat.objects.filter(pk=seat.pk).update(active_sessions=F("active_sessions") + 1)
    ended = session_make(seat=seat, customer=_customer("韩梅梅"), state=ServiceSession.State.CLOSED)
    message_make(ended, "退款到账了吗")
    LeftMessage.objects.create(customer=_customer("留言的客户"), text="请回电话")

    page.goto("/console/")
    found: dict[str, list[str]] = {}

    def check(where: str) -> None:
        if english := english_on_page(page, allowed=ALLOWED_LATIN):
            found[where] = english

    check("login")
    page.fill("input[name=username]", "alice")
    page.fill("input[name=password]", "alice-pw")
    page.click("button[type=submit]")
    expect(page.locator("#link-state")).to_have_attribute("data-state", "connected")
    check("console")
    page.locator(".session-item", has_text="李雷").click()
    expect(page.locator("#chat-name")).to_have_text("李雷")
    check("a chat")
    shot(page, "console-zh-chat")
    for button, dialog in [
        ("#transfer-button", "#transfer-dialog"),
        ("#end-button", "#end-dialog"),
        ("#ended-button", "#find-dialog"),
        ("#tokens-button", "#token-dialog"),
        ("#keys-button", "#keys-dialog"),
    ]:
        page.locator(button).click()
        expect(page.locator(dialog)).to_be_visible()
        check(button)
        page.keyboard.press("Escape")
        expect(page.locator(dialog)).to_be_hidden()
    page.keyboard.press("Control+k")
    page.keyboard.type("退款")
    expect(page.locator("#find-results .find-hit")).to_have_count(1)
    check("search")
    page.locator("#find-dialog [data-close]").click()
    expect(page.locator("#find-dialog")).to_be_hidden()
    page.locator("#tab-left").click()
    expect(page.locator("#left-panel")).to_contain_text("请回电话")
    check("left messages")
    assert found == {}
