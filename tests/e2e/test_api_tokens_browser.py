"""API tokens in the servicer console, in real Chromium against Daphne on the test database: a
servicer creates a token (its key shown once, copied with the button), a client of theirs reads a
customer's history with it, the servicer revokes it and the client is refused. Screenshots go to
test-artifacts/screenshots/.
"""

from __future__ import annotations

import hashlib
import re

import pytest
import requests
from playwright.sync_api import Page, expect

from seats.models import ApiToken
from seats.services import seat_create_with_user
from tests.factories import customer_make, message_make, session_make
from tests.support.browser import shot

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


@pytest.fixture
def page(daphne_page: Page) -> Page:
    return daphne_page


def test_a_servicer_creates_copies_uses_and_revokes_an_api_token(page: Page, daphne: str) -> None:
    alice = seat_create_with_user(username="alice", password="alice-pw", display_name="Alice", im_user_id="alice-im")
    customer = customer_make("wx-2001")
    session = session_make(customer=customer, seat=alice)
    message_make(session, "发票抬头写错了")
    history_url = f"{daphne}/api/customers/{customer.pk}/history/"
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=daphne)

    page.goto("/console/")
    page.fill("input[name=username]", "alice")
    page.fill("input[name=password]", "alice-pw")
    page.click("button[type=submit]")
    expect(page.locator("#link-state")).to_have_attribute("data-state", "connected")

    page.get_by_role("button", name="API 令牌").click()
    dialog = page.locator("#token-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.locator("#token-empty")).to_have_text("您还没有 API 令牌。")
    page.fill("#token-name", "桌面客户端")
    page.keyboard.press("Enter")  # Enter in the name issues it, and keeps the dialog open
    expect(dialog.locator("#token-key")).to_have_value(re.compile(r"^cst_[A-Za-z0-9_-]{43}$"))
    expect(dialog.locator("#token-issued")).to_be_visible()
    expect(dialog.locator("#token-issued")).to_contain_text("请立即复制此令牌：它只显示这一次。")
    key = dialog.locator("#token-key").input_value()
    row = dialog.locator(".token-row")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("桌面客户端")
    expect(row).to_contain_text(f"{key[:12]}…")
    expect(row).to_contain_text("从未使用")
    shot(page, "api-tokens-01-created")

    dialog.get_by_role("button", name="复制").click()
    expect(page.locator(".toast", has_text="已复制。")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == key
    token = ApiToken.objects.get()
    assert token.digest == hashlib.sha256(key.encode()).hexdigest()
    assert key not in str(list(ApiToken.objects.values().get().values()))

    # The servicer's own client reads the customer's history with it.
    answer = requests.get(history_url, headers={"Authorization": f"Token {key}"}, timeout=10)
    assert answer.status_code == 200
    assert answer.json()["results"][0]["messages"][0]["payload"]["searchableContent"] == "发票抬头写错了"

    # Shown once: closed and opened again, the dialog lists the token by its prefix only.
    dialog.get_by_role("button", name="关闭").click()
    expect(dialog).to_be_hidden()
    page.get_by_role("button", name="API 令牌").click()
    expect(dialog.locator("#token-issued")).to_be_hidden()
    assert dialog.locator("#token-key").input_value() == ""
    expect(row).to_contain_text("最近使用于")
    shot(page, "api-tokens-02-listed")

    revoke = row.get_by_role("button", name="吊销")
    revoke.click()
    expect(row.get_by_role("button", name="再次点击以吊销")).to_be_visible()  # a second click confirms
    assert ApiToken.objects.get().revoked_at is None
    row.get_by_role("button", name="再次点击以吊销").click()
    expect(page.locator(".toast", has_text="令牌已吊销")).to_be_visible()
    expect(row).to_have_count(0)
    expect(dialog.locator("#token-empty")).to_be_visible()
    shot(page, "api-tokens-03-revoked")

    refused = requests.get(
        history_url, headers={"Authorization": f"Token {key}", "Accept-Language": "zh-hans"}, timeout=10
    )
    assert refused.status_code == 401
    assert refused.json() == {"detail": "该 API 令牌已被吊销。"}
