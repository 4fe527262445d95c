"""The live view's controls in real Chromium (Daphne on the test database): reassign a chat with
a note, end one with a reason, and set seats offline or away with their chats sent back to the
queue or kept. Screenshots go to test-artifacts/screenshots/.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from seats.models import Seat
from sessions_app.models import ServiceSession, SessionEvent
from tests.e2e.test_supervisor_browser import _in_another_thread, _log_in, _now_busy, _seats, _shot

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


def _session_of(seat: Seat) -> ServiceSession:
    return _in_another_thread(lambda: ServiceSession.objects.get(seat=seat, state=ServiceSession.State.HUMAN))


def _live(browser: Browser, daphne: str) -> Page:
    context = browser.new_context(base_url=daphne, locale="zh-CN", viewport={"width": 1440, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    _log_in(page, "/admin/live/")
    expect(page.locator("#cs-connection")).to_have_attribute("data-state", "live")
    return page


def test_a_supervisor_reassigns_and_ends_chats_from_the_live_view(daphne: str, browser: Browser) -> None:
    seats = _seats()
    _now_busy(seats)
    wang, li = seats[0], seats[1]
    wangs = _session_of(wang)
    page = _live(browser, daphne)

    row = page.locator(f'#cs-in-progress tr[data-session="{wangs.pk}"]')
    row.locator("button", has_text="改派").click()
    dialog = page.locator("#cs-reassign-dialog")
    expect(dialog).to_be_visible()
    dialog.locator("select[name=seat]").select_option(str(li.pk))
    dialog.locator("textarea[name=note]").fill("客户要退货，请小李跟进")
    _shot(page, "supervisor-controls-reassign")
    dialog.locator("button[type=submit]").click()
    expect(dialog).to_be_hidden()
    expect(row.locator("td").nth(2)).to_have_text("客服小李", timeout=5_000)
    moved = _in_another_thread(lambda: ServiceSession.objects.get(pk=wangs.pk))
    assert moved.seat_id == li.pk
    note = _in_another_thread(lambda: moved.events.get(kind=SessionEvent.Kind.TRANSFERRED).detail["note"])
    assert note == "客户要退货，请小李跟进"

    # A full seat is refused with the server's reason, shown in the dialog.
    Seat.objects.filter(pk=wang.pk).update(active_sessions=3)
    row.locator("button", has_text="改派").click()
    dialog.locator("select[name=seat]").select_option(str(wang.pk))
    dialog.locator("button[type=submit]").click()
    expect(dialog.locator(".cs-dialog-error")).to_contain_text("接待已满")
    _shot(page, "supervisor-controls-reassign-refused")
    dialog.locator(".cs-dialog-cancel").click()
    Seat.objects.filter(pk=wang.pk).update(active_sessions=0)

    # End with a reason: a confirmation dialog first.
    row.locator("button", has_text="结束").click()
    end = page.locator("#cs-end-dialog")
    expect(end).to_be_visible()
    end.locator("textarea[name=note]").fill("重复会话，已在电话中处理")
    _shot(page, "supervisor-controls-end")
    end.locator("button[type=submit]").click()
    expect(row).to_have_count(0, timeout=5_000)
    ended = _in_another_thread(lambda: ServiceSession.objects.get(pk=wangs.pk))
    assert ended.state == ServiceSession.State.CLOSED
    told = _in_another_thread(lambda: list(ended.messages.values_list("payload", flat=True)))
    assert any(payload.get("searchableContent") == "重复会话，已在电话中处理" for payload in told)


@pytest.mark.parametrize("requeue", [True, False], ids=["back-to-queue", "stay"])
def test_a_seat_set_offline_with_chats_gets_the_choice(daphne: str, browser: Browser, requeue: bool) -> None:
    seats = _seats()
    _now_busy(seats)
    wang = seats[0]
    wangs = _session_of(wang)
    console = browser.new_context(base_url=daphne, locale="zh-CN", viewport={"width": 1280, "height": 800}).new_page()
    console.set_default_timeout(15_000)
    console.goto("/console/")
    console.fill("input[name=username]", "wang")
    console.fill("input[name=password]", "wang-pw")
    console.click("button[type=submit]")
    expect(console.locator("#link-state")).to_have_attribute("data-state", "connected")
    expect(console.locator(".status-switch [data-status=online]")).to_have_attribute("aria-checked", "true")
    page = _live(browser, daphne)

    page.locator(f'#cs-seats tr[data-seat="{wang.pk}"] button', has_text="更改状态").click()
    dialog = page.locator("#cs-status-dialog")
    dialog.locator("select[name=status]").select_option("offline")
    dialog.locator(f'input[name=requeue][value="{"1" if requeue else ""}"]').check()
    _shot(page, f"supervisor-controls-offline-{'requeue' if requeue else 'stay'}")
    dialog.locator("button[type=submit]").click()
    status = page.locator(f'#cs-seats tr[data-seat="{wang.pk}"] .cs-status')
    expect(status).to_have_class(re.compile("cs-status-offline"), timeout=5_000)
    after = _in_another_thread(lambda: ServiceSession.objects.get(pk=wangs.pk))
    if requeue:
        assert (after.state, after.seat_id) == (ServiceSession.State.QUEUED, None)
        first = page.locator("#cs-queue tbody tr").first
        expect(first).to_have_attribute("data-session", str(wangs.pk))
    else:
        assert (after.state, after.seat_id) == (ServiceSession.State.HUMAN, wang.pk)
    _shot(page, f"supervisor-controls-offline-{'requeue' if requeue else 'stay'}-done")

    # The servicer's console says what happened and why; its status pill shows 离线.
    banner = console.locator("#banner")
    expect(banner).to_contain_text("主管已将您的状态设为离线")
    if requeue:
        expect(banner).to_contain_text("退回排队的会话：1 个")
    expect(console.locator(".status-switch [data-status=offline]")).to_have_attribute("aria-checked", "true")
    expect(console.locator(".status-switch [data-status=offline]")).to_be_visible()
    _shot(console, f"supervisor-controls-console-{'requeue' if requeue else 'stay'}")
