"""The console from the keyboard and on a phone, in real Chromium (Daphne alone on the test
database): Alt+↓/↑ switch chats, Esc closes, the file picker and the shortcuts help are reached by
keyboard, a supervisor's capacity change reaches the load pill live, a 19-byte file reads "19 B",
and at 390 px the list, the chat and the customer panel are views with no horizontal scrolling.
Screenshots in test-artifacts/screenshots/.
"""

from __future__ import annotations

import pytest
from django.db import transaction
from django.db.models import F
from playwright.sync_api import Browser, Page, expect

from robots.wfprotocol import MessagePayload, file_payload, text_payload
from seats.models import Seat
from seats.services import seat_capacity_set, seat_create_with_user, seat_status_set
from sessions_app.flow.transcript import transcript_append
from sessions_app.models import Customer, Message, ServiceSession
from tests.factories import session_make
from tests.support.browser import shot

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


def _customer_sends(session_id: int, payload: MessagePayload) -> None:
    with transaction.atomic():
        session = ServiceSession.objects.select_for_update().select_related("customer").get(pk=session_id)
        transcript_append(
            session=session, direction=Message.Direction.IN, author=Message.Author.CUSTOMER, payload=payload
        )


def _two_chats() -> tuple[Seat, ServiceSession, ServiceSession]:
    seat = seat_create_with_user(username="alice", password="alice-pw", display_name="Alice", im_user_id="alice-im")
    first = session_make(seat=seat, customer=Customer.objects.create(im_user_id="cust-1", display_name="张三"))
    second = session_make(seat=seat, customer=Customer.objects.create(im_user_id="cust-2", display_name="王五"))
    Seat.objects.filter(pk=seat.pk).update(active_sessions=F("active_sessions") + 2)
    _customer_sends(first.pk, text_payload("第一个客户的问题"))
    _customer_sends(second.pk, text_payload("第二个客户的问题"))
    return seat, first, second


def _sign_in(page: Page) -> None:
    page.goto("/console/")
    page.fill("input[name=username]", "alice")
    page.fill("input[name=password]", "alice-pw")
    page.click("button[type=submit]")
    expect(page.locator("#link-state")).to_have_attribute("data-state", "connected")
    expect(page.locator(".session-item")).to_have_count(2)


def _active_name(page: Page) -> str:
    return str(page.locator("#chat-name").text_content())


def _no_horizontal_overflow(page: Page) -> None:
    widths = page.evaluate("() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert widths[0] <= widths[1], f"the page scrolls sideways: {widths}"


def test_the_keyboard_reaches_every_chat_dialog_and_the_file_picker(daphne_page: Page) -> None:
    page = daphne_page
    seat, first, _second = _two_chats()
    _customer_sends(first.pk, file_payload("http://127.0.0.1:1/f.txt", name="说明.txt", size=19))
    _sign_in(page)

    # Alt+↓ opens the first chat, again the second, and wraps round; Alt+↑ goes back.
    names = [str(name) for name in page.locator(".session-item .session-name").all_text_contents()]
    page.keyboard.press("Alt+ArrowDown")
    expect(page.locator("#chat-name")).to_have_text(names[0])
    expect(page.locator("#composer-input")).to_be_focused()
    page.keyboard.press("Alt+ArrowDown")
    expect(page.locator("#chat-name")).to_have_text(names[1])
    page.keyboard.press("Alt+ArrowUp")
    expect(page.locator("#chat-name")).to_have_text(names[0])
    shot(page, "keys-01-alt-arrow-switches-chats")

    # A 19-byte file reads "19 B", not "1 KB".
    if _active_name(page) != "张三":
        page.keyboard.press("Alt+ArrowDown")
    expect(page.locator("#chat-name")).to_have_text("张三")
    expect(page.locator("#messages .file-size")).to_have_text("19 B")
    sizes = page.evaluate("[0, 19, 1023, 1024, 1536, 20480, 1048576, 3355443].map(window.ConsoleApp.fileSize)")
    assert sizes == ["0 B", "19 B", "1023 B", "1 KB", "1.5 KB", "20 KB", "1 MB", "3.2 MB"]

    # The file picker is a button in the tab order; Enter on it opens the chooser.
    page.locator("#canned-button").focus()
    page.keyboard.press("Tab")
    expect(page.locator("#file-button")).to_be_focused()
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none", "the focus is visible"
    shot(page, "keys-02-file-button-focused")
    # The chooser itself is the browser's; what the console must do is click the hidden input.
    page.evaluate(
        """() => document.getElementById("file-input").addEventListener(
            "click", (event) => { window.__pickerOpened = true; event.preventDefault(); })"""
    )
    page.keyboard.press("Enter")
    page.wait_for_function("() => window.__pickerOpened === true")
    page.evaluate("() => { window.__pickerOpened = false; }")
    page.locator("#composer-input").focus()
    page.keyboard.press("Alt+U")  # the shortcut does the same, from the message box
    page.wait_for_function("() => window.__pickerOpened === true")

    # "?" (outside a text field) shows the shortcuts, Ctrl+K among them; Esc closes the dialog.
    page.locator("#file-button").focus()
    page.keyboard.press("?")
    help_dialog = page.locator("#keys-dialog")
    expect(help_dialog).to_be_visible()
    expect(help_dialog).to_contain_text("Ctrl")
    expect(help_dialog).to_contain_text("下一个会话")
    shot(page, "keys-03-shortcuts-help")
    page.keyboard.press("Escape")
    expect(help_dialog).to_be_hidden()

    # Esc closes the transfer dialog too.
    page.locator("#transfer-button").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#transfer-dialog")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.locator("#transfer-dialog")).to_be_hidden()

    # A supervisor lowers the capacity: the load pill follows without a reload (never "2/3" left).
    expect(page.locator("#my-load")).to_have_text("2/3")
    seat_capacity_set(seat=seat, capacity=1)
    expect(page.locator("#my-load")).to_have_text("2/1")
    seat_capacity_set(seat=seat, capacity=5)
    expect(page.locator("#my-load")).to_have_text("2/5")
    # A status set by a supervisor (the admin's actions go through seat_status_set) shows at once too.
    seat_status_set(seat=seat, status=Seat.Status.AWAY)
    expect(page.locator(".status-switch [data-status=away]")).to_have_attribute("aria-checked", "true")
    shot(page, "keys-04-capacity-and-status-pushed-live")


def test_at_390_px_the_list_chat_and_customer_are_views_without_sideways_scrolling(
    daphne: str, browser: Browser
) -> None:
    _two_chats()
    context = browser.new_context(
        base_url=daphne, locale="zh-CN", viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    _sign_in(page)

    # The list: full width, chats big enough to touch, no sideways scrolling.
    expect(page.locator(".session-pane")).to_be_visible()
    expect(page.locator(".chat-pane")).to_be_hidden()
    _no_horizontal_overflow(page)
    for box in [page.locator(".session-item").nth(i).bounding_box() for i in range(2)]:
        assert box is not None
        assert box["height"] >= 40
        assert box["width"] <= 390
    for button in page.locator(".phone-nav button").all():
        box = button.bounding_box()
        assert box is not None
        assert box["height"] >= 40
    shot(page, "phone-01-list-390")

    # Tapping a chat opens the chat view; the composer works.
    page.locator(".session-item").first.tap()
    expect(page.locator(".chat-pane")).to_be_visible()
    expect(page.locator(".session-pane")).to_be_hidden()
    expect(page.locator("#composer-input")).to_be_visible()
    expect(page.locator("#send-button")).to_be_visible()
    send_box = page.locator("#send-button").bounding_box()
    assert send_box is not None
    assert send_box["height"] >= 40
    assert send_box["x"] + send_box["width"] <= 390
    page.locator("#composer-input").fill("您好，请问有什么可以帮您？")
    page.locator("#send-button").tap()
    expect(page.locator("#messages")).to_contain_text("您好，请问有什么可以帮您？")
    _no_horizontal_overflow(page)
    shot(page, "phone-02-chat-390")

    # The customer panel is the third view; Esc goes back to the chat, then to the list.
    page.locator(".phone-nav [data-phone-view=side]").tap()
    expect(page.locator(".context-pane")).to_be_visible()
    expect(page.locator("#customer-card")).to_be_visible()
    _no_horizontal_overflow(page)
    shot(page, "phone-03-customer-390")
    page.locator("body").press("Escape")
    expect(page.locator(".chat-pane")).to_be_visible()
    page.locator("body").press("Escape")
    expect(page.locator(".session-pane")).to_be_visible()

    # The left messages and the shortcuts dialog fit the screen too.
    page.locator("#tab-left").tap()
    expect(page.locator("#left-panel")).to_be_visible()
    _no_horizontal_overflow(page)
    page.locator("#keys-button").tap()
    expect(page.locator("#keys-dialog")).to_be_visible()
    dialog_box = page.locator("#keys-dialog").bounding_box()
    assert dialog_box is not None
    assert dialog_box["x"] >= 0
    assert dialog_box["x"] + dialog_box["width"] <= 390
    shot(page, "phone-04-shortcuts-390")
    page.keyboard.press("Escape")
    expect(page.locator("#keys-dialog")).to_be_hidden()
    context.close()
    assert errors == []
