"""The supervisors' pages in real Chromium, served by Daphne on the test database: the reports
with their charts, and the live view updating through its websocket as a customer joins the
queue. Screenshots go to test-artifacts/screenshots/ (kept by the test run, not committed).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, time, timedelta
from typing import TypeVar

import pytest
from django.contrib.auth.models import User
from django.db import connections
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from ratings.models import Rating
from seats.models import Seat, SkillGroup
from seats.services import seat_create_with_user, supervisor_create
from sessions_app.models import Message, ServiceSession, SessionEvent
from tests.factories import (
    assignment_at,
    customer_make,
    event_at,
    message_make,
    reply_at,
    timed_session,
    transfer_at,
)
from tests.support.browser import SCREENSHOTS

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

T = TypeVar("T")

Reason = ServiceSession.CloseReason
NAMES = ("王女士", "李先生", "张同学", "赵女士", "陈先生", "刘女士", "周先生", "吴女士")


def _seats() -> list[Seat]:
    supervisor_create(username="supervisor", password="supervisor-pw")
    pre_sales, after_sales = SkillGroup.objects.create(name="售前咨询"), SkillGroup.objects.create(name="售后服务")
    seats = []
    for login, name, status, groups in (
        ("wang", "客服小王", Seat.Status.ONLINE, [pre_sales, after_sales]),
        ("li", "客服小李", Seat.Status.ONLINE, [after_sales]),
        ("zhao", "客服小赵", Seat.Status.AWAY, [pre_sales]),
        ("sun", "客服小孙", Seat.Status.OFFLINE, []),
    ):
        seat = seat_create_with_user(username=login, password=f"{login}-pw", display_name=name, capacity=3)
        seat.skill_groups.set(groups)
        Seat.objects.filter(pk=seat.pk).update(status=status)
        seats.append(seat)
    return seats


def _history(seats: list[Seat]) -> None:
    """A week of sessions with a fixed pattern: different hours, waits, replies, ratings, transfers."""
    wang, li = seats[0], seats[1]
    today = timezone.localdate()
    count = 0
    for days_ago in range(6, -1, -1):
        day = today - timedelta(days=days_ago)
        for slot in range(3 + (days_ago * 5) % 7):
            count += 1
            hour = (9, 10, 11, 14, 15, 16, 20)[(slot + days_ago) % 7]
            opened = datetime.combine(day, time(hour, (slot * 7) % 60), tzinfo=timezone.get_current_timezone())
            if opened > timezone.now() - timedelta(minutes=30):
                continue
            kind = (slot + days_ago) % 5
            customer = customer_make(f"c{count}")
            customer.display_name = NAMES[count % len(NAMES)]
            customer.save(update_fields=["display_name"])
            if kind == 0:
                timed_session(
                    opened=opened, closed=opened + timedelta(minutes=3), reason=Reason.IDLE_TIMEOUT, customer=customer
                )
                continue
            queued = opened + timedelta(seconds=40)
            if kind == 1:
                wait = timedelta(seconds=60 + 45 * slot)
                timed_session(
                    opened=opened, queued=queued, closed=queued + wait, reason=Reason.QUEUE_CANCELLED, customer=customer
                )
                continue
            seat = wang if (slot + days_ago) % 2 else li
            wait = timedelta(seconds=(0, 20, 75, 200)[slot % 4])
            closed = queued + wait + timedelta(minutes=4 + slot)
            session = timed_session(
                opened=opened,
                queued=queued,
                closed=closed,
                reason=Reason.SERVICER_END,
                rated_seat=seat,
                customer=customer,
            )
            assignment_at(session, seat, queued + wait, waited=wait.total_seconds() > 0)
            reply_at(session, seat, queued + wait + timedelta(seconds=15 + 11 * slot))
            if kind == 4:
                other = li if seat == wang else wang
                transfer_at(session, seat, other, queued + wait + timedelta(minutes=2))
                reply_at(session, other, queued + wait + timedelta(minutes=2, seconds=25))
                ServiceSession.objects.filter(pk=session.pk).update(rated_seat=other)
                seat = other
            if slot % 3 != 2:
                Rating.objects.create(session=session, seat=seat, score=5 - (slot + days_ago) % 4, channel="form")


def _now_busy(seats: list[Seat]) -> None:
    """Two customers with seats, two in the queue."""
    wang, li = seats[0], seats[1]
    now = timezone.now()
    for minutes, seat, name in ((12, wang, "王女士"), (4, li, "李先生")):
        session = timed_session(
            opened=now - timedelta(minutes=minutes + 2),
            queued=now - timedelta(minutes=minutes + 1),
            customer=customer_make(f"busy-{minutes}"),
        )
        ServiceSession.objects.filter(pk=session.pk).update(last_customer_activity_at=now - timedelta(minutes=1))
        _say(session, Message.Author.CUSTOMER, "你好", now - timedelta(minutes=minutes + 2))
        _say(
            session,
            Message.Author.BOT,
            "您好，欢迎咨询！需要人工服务请发送“转人工”。",
            now - timedelta(minutes=minutes + 2),
        )
        _say(session, Message.Author.CUSTOMER, "转人工", now - timedelta(minutes=minutes + 1))
        assignment_at(session, seat, now - timedelta(minutes=minutes))
        _say(session, Message.Author.SYSTEM, f"客服 {seat.display_name} 为您服务。", now - timedelta(minutes=minutes))
        if minutes > 10:
            _say(session, Message.Author.CUSTOMER, "我想退货，订单号 12345", now - timedelta(minutes=minutes - 0.5))
            reply_at(session, seat, now - timedelta(minutes=minutes - 1), "好的，我来帮您查一下这个订单。")
        Seat.objects.filter(pk=seat.pk).update(active_sessions=1)
        customer = session.customer
        customer.display_name = name
        customer.save(update_fields=["display_name"])
    for minutes, name in ((3, "张同学"), (1, "赵女士")):
        waiting = timed_session(
            opened=now - timedelta(minutes=minutes + 1),
            queued=now - timedelta(minutes=minutes),
            customer=customer_make(f"waiting-{minutes}"),
        )
        event_at(waiting, SessionEvent.Kind.QUEUED, now - timedelta(minutes=minutes))
        waiting.customer.display_name = name
        waiting.customer.save(update_fields=["display_name"])


def _say(session: ServiceSession, author: str, text: str, at: datetime) -> None:
    message = message_make(session, text, author=author)
    Message.objects.filter(pk=message.pk).update(created_at=at, server_timestamp=int(at.timestamp() * 1000))


def _in_another_thread(action: Callable[[], T]) -> T:
    """Run ``action`` where no event loop runs (Playwright's sync API keeps one on this thread,
    and the channel layer's ``async_to_sync`` refuses to run beside it)."""

    def run() -> T:
        try:
            return action()
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(run).result()


def _log_in(page: Page, next_path: str) -> None:
    page.goto(f"/admin/login/?next={next_path}")
    page.fill("input[name=username]", "supervisor")
    page.fill("input[name=password]", "supervisor-pw")
    page.click("input[type=submit]")
    expect(page).to_have_url(re.compile(re.escape(next_path) + "$"))


def _shot(page: Page, name: str, *, full_page: bool = False) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=full_page)


def test_the_reports_show_a_weeks_charts_and_tables(daphne: str, browser: Browser) -> None:
    seats = _seats()
    _history(seats)
    for locale, suffix in (("zh-CN", "zh"), ("en-US", "en")):
        context = browser.new_context(base_url=daphne, locale=locale, viewport={"width": 1360, "height": 900})
        context.set_default_timeout(15_000)
        page = context.new_page()
        _log_in(page, "/admin/reports/")
        expect(page.locator("svg.cs-chart")).to_have_count(6)
        expect(page.locator("#report-seats tbody tr")).to_have_count(2)
        expect(page.locator("#report-seats")).to_contain_text("客服小王")
        _shot(page, f"supervisor-reports-{suffix}", full_page=True)
        for table in ("days", "seats", "ratings"):
            page.locator(f"#report-{table}").screenshot(path=SCREENSHOTS / f"supervisor-reports-{suffix}-{table}.png")
        csv = page.request.get(page.locator("#report-ratings a.cs-csv").get_attribute("href") or "")
        assert csv.status == 200
        assert csv.headers["content-type"].startswith("text/csv")
        assert "客服小李" in csv.text()
        context.close()


def test_the_live_view_updates_the_moment_a_customer_joins_the_queue(daphne: str, browser: Browser) -> None:
    seats = _seats()
    _now_busy(seats)
    context = browser.new_context(base_url=daphne, locale="zh-CN", viewport={"width": 1360, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    _log_in(page, "/admin/live/")
    expect(page.locator("#cs-connection")).to_have_attribute("data-state", "live")
    expect(page.locator("#cs-queue tbody tr")).to_have_count(2)
    expect(page.locator("#cs-in-progress tbody tr")).to_have_count(2)
    _shot(page, "supervisor-live")

    # A third customer asks for a human: the timeline row's event reaches the page through the
    # websocket, long before the 30 s safety poll.
    now = timezone.now()
    newcomer = timed_session(opened=now - timedelta(seconds=30), queued=now, customer=customer_make("newcomer"))
    newcomer.customer.display_name = "钱先生"
    newcomer.customer.save(update_fields=["display_name"])
    _in_another_thread(lambda: SessionEvent.objects.create(session=newcomer, kind=SessionEvent.Kind.QUEUED))
    expect(page.locator(f'#cs-queue tr[data-session="{newcomer.pk}"]')).to_be_visible(timeout=5_000)
    expect(page.locator("#cs-queue tbody tr")).to_have_count(3)
    expect(page.locator('[data-count="queued"]')).to_have_text("3")
    page.wait_for_timeout(1_200)  # let the waiting times tick once
    _shot(page, "supervisor-live-updated")

    # A seat goes away: its status changes on the page without a reload.
    from seats.services import seat_status_set

    _in_another_thread(lambda: seat_status_set(seat=seats[1], status=Seat.Status.AWAY))
    row = page.locator(f'#cs-seats tr[data-seat="{seats[1].pk}"] .cs-status')
    expect(row).to_have_class(re.compile("cs-status-away"), timeout=5_000)

    # From the live view to a session's record: its timeline and transcript.
    page.click("#cs-in-progress tr[data-session] a >> nth=0")
    expect(page.locator("#content")).to_contain_text("时间线")
    _shot(page, "supervisor-session-record", full_page=True)

    # The admin's home page leads to both pages; the seats list shows load, status and groups.
    page.goto("/admin/")
    expect(page.locator(".cs-supervision-module")).to_be_visible()
    _shot(page, "supervisor-admin-home")
    page.goto("/admin/seats/seat/")
    expect(page.locator("#result_list")).to_contain_text("售前咨询")
    _shot(page, "supervisor-seats")
    context.close()


def test_a_servicer_cannot_open_the_live_view(daphne: str, browser: Browser) -> None:
    _seats()
    User.objects.filter(username="wang").update(is_staff=False)
    context = browser.new_context(base_url=daphne, locale="zh-CN")
    page = context.new_page()
    page.goto("/admin/login/?next=/admin/live/")
    page.fill("input[name=username]", "wang")
    page.fill("input[name=password]", "wang-pw")
    page.click("input[type=submit]")
    expect(page).to_have_url(re.compile(r"/admin/login/"))
    page.goto("/admin/live/")
    expect(page).to_have_url(re.compile(r"/admin/login/\?next=/admin/live/"))
    context.close()
