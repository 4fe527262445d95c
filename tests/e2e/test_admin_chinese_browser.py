"""The admin a supervisor works in, in real Chromium and in Chinese: the seat page's group picker,
the settings' help, the sessions list at 1,440 px without cut-off columns, and a transcript that
reads in order with its control messages as lines; and on every page a supervisor uses (live view,
reports, settings, sessions and their search, FAQ, seats, the reassign action) no English text. Screenshots go
to test-artifacts/screenshots/.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from robots.wfprotocol.content import CsControl
from seats.models import Seat, SkillGroup
from seats.services import seat_create_with_user, supervisor_create
from sessions_app.models import Message, ServiceSession
from tests.factories import assignment_at, customer_make, message_make, session_make, timed_session
from tests.support.browser import SCREENSHOTS, english_on_page

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


def _log_in(page: Page, next_path: str) -> None:
    page.goto(f"/admin/login/?next={next_path}")
    page.fill("input[name=username]", "supervisor")
    page.fill("input[name=password]", "supervisor-pw")
    page.click("input[type=submit]")
    expect(page).to_have_url(re.compile(re.escape(next_path) + "$"))


def _shot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=True)


def _page(daphne: str, browser: Browser) -> Page:
    context = browser.new_context(base_url=daphne, locale="zh-CN", viewport={"width": 1440, "height": 900})
    context.set_default_timeout(15_000)
    return context.new_page()


def _sessions(seat: Seat) -> ServiceSession:
    """A dozen closed sessions with long customer names; the last one has a readable transcript."""
    now = timezone.now()
    session = None
    for number in range(12):
        customer = customer_make(f"wx-customer-with-a-long-im-id-{number:02d}")
        customer.display_name = f"上海某某贸易有限公司采购部王女士{number}"
        customer.save(update_fields=["display_name"])
        opened = now - timedelta(hours=number + 1)
        session = timed_session(
            opened=opened,
            queued=opened + timedelta(seconds=5),
            closed=opened + timedelta(minutes=9),
            reason=ServiceSession.CloseReason.SERVICER_END,
            customer=customer,
        )
        assignment_at(session, seat, opened + timedelta(seconds=40))
    assert session is not None
    message_make(session, "我想查一下订单 20240315 的发货情况")
    session.last_seq += 1
    session.save(update_fields=["last_seq"])
    servicer = {"servicer": {"id": str(seat.pk), "name": seat.display_name, "avatar": ""}}
    Message.objects.create(
        session=session,
        seq=session.last_seq,
        direction=Message.Direction.OUT,
        author=Message.Author.SYSTEM,
        content_type=int(CsControl.SERVICER_ASSIGNED),
        payload={"type": int(CsControl.SERVICER_ASSIGNED), "content": json.dumps(servicer, ensure_ascii=False)},
        server_timestamp=1,  # an earlier clock than the first message: seq decides the order
    )
    return session


def test_the_admin_reads_in_chinese_at_1440_px(daphne: str, browser: Browser) -> None:
    supervisor_create(username="supervisor", password="supervisor-pw")
    seat = seat_create_with_user(username="li", password="li-pw", display_name="客服小李", capacity=3)
    SkillGroup.objects.create(name="售前咨询")
    session = _sessions(seat)
    page = _page(daphne, browser)

    # The seat page's group picker (filter_horizontal): its JavaScript strings in Chinese.
    _log_in(page, f"/admin/seats/seat/{seat.pk}/change/")
    picker = page.locator(".selector")
    expect(picker).to_contain_text("可用 技能组")
    expect(page.locator(".selector-chooseall")).to_have_text(re.compile("全选"))
    assert "by selecting them" not in page.content()
    _shot(page, "admin-zh-seat-group-picker")

    # The settings: every field has its help, in Chinese.
    page.goto("/admin/sessions_app/servicesettings/")
    expect(page.locator("body")).to_contain_text("坐席接入会话时发送给客户")
    expect(page.locator("body")).to_contain_text("可用占位符：{name}")
    _shot(page, "admin-zh-settings-help")

    # The sessions list at 1,440 px: no column cut off, no sideways scrolling.
    page.goto("/admin/sessions_app/servicesession/")
    expect(page.locator("#result_list")).to_be_visible()
    widths = page.evaluate(
        """() => {
            const table = document.querySelector('#result_list');
            const box = table.closest('.results') || table.parentElement;
            return {table: table.scrollWidth, box: box.clientWidth, page: document.documentElement.scrollWidth,
                    view: window.innerWidth};
        }"""
    )
    _shot(page, "admin-zh-sessions-list-1440")
    assert widths["table"] <= widths["box"], widths
    assert widths["page"] <= widths["view"], widths
    header = page.locator("#result_list thead").inner_text()
    assert "客户" in header
    assert "CUSTOMER" not in header.upper()
    _shot(page, "admin-zh-sessions-list-1440")

    # The transcript: in seq order, the control message as a line.
    page.goto(f"/admin/sessions_app/servicesession/{session.pk}/change/")
    transcript = page.locator("body").inner_text()
    assert transcript.index("发货情况") < transcript.index("转接给 客服小李")
    assert "[1101]" not in transcript
    _shot(page, "admin-zh-transcript")


# Latin words a Chinese admin page may show: data (logins, IM ids) and names.
ALLOWED_LATIN = re.compile(
    r"^(supervisor|li|wx-[\w-]+|CSV|IM|FAQ|URL|ID|Asia/Shanghai|docs/reports\.md|Wildfire|VIP|Control|Command|Mac)$"
)


def test_a_chinese_supervisor_meets_no_english_on_the_pages_they_use(daphne: str, browser: Browser) -> None:
    supervisor_create(username="supervisor", password="supervisor-pw")
    seat = seat_create_with_user(username="li", password="li-pw", display_name="客服小李", capacity=3)
    SkillGroup.objects.create(name="售前咨询")
    session = _sessions(seat)
    # The live view with something to show: a chat in progress and a customer waiting.
    Seat.objects.filter(pk=seat.pk).update(status=Seat.Status.ONLINE, active_sessions=1)
    chatting = session_make(customer=customer_make("wx-chatting"), seat=seat)
    message_make(chatting, "你好，我的快递到哪了")
    ServiceSession.objects.create(
        customer=customer_make("wx-waiting"), state=ServiceSession.State.QUEUED, queued_at=timezone.now()
    )
    page = _page(daphne, browser)
    _log_in(page, "/admin/live/")
    expect(page.locator("body")).to_contain_text("排队：1 人等待")
    expect(page.locator("body")).to_contain_text("进行中：1 个会话")
    _shot(page, "admin-zh-live-view")
    pages = [
        "/admin/",
        "/admin/live/",
        "/admin/reports/",
        "/admin/reports/?period=7d",
        "/admin/sessions_app/servicesession/",
        "/admin/sessions_app/servicesession/?q=发货",
        f"/admin/sessions_app/servicesession/{session.pk}/change/",
        "/admin/sessions_app/servicesettings/1/change/",
        "/admin/sessions_app/faqentry/",
        "/admin/sessions_app/faqentry/add/",
        "/admin/sessions_app/faqentry/trial/?q=怎么退款",
        "/admin/sessions_app/customer/",
        f"/admin/sessions_app/customer/{session.customer_id}/change/",
        "/admin/sessions_app/cannedreply/",
        "/admin/sessions_app/leftmessage/",
        "/admin/sessions_app/tag/",
        "/admin/seats/seat/",
        f"/admin/seats/seat/{seat.pk}/change/",
        "/admin/seats/skillgroup/",
        "/admin/ratings/rating/",
        "/admin/password_change/",
    ]
    found = {}
    for path in pages:
        page.goto(path)
        english = english_on_page(page, allowed=ALLOWED_LATIN)
        if english:
            found[path] = english
    # The session list's actions: the reassign page a supervisor confirms on.
    page.goto("/admin/sessions_app/servicesession/")
    page.locator(f"input[name=_selected_action][value='{session.pk}']").check()
    page.select_option("select[name=action]", "reassign")
    page.click("button[name=index]")
    expect(page.locator("body")).to_contain_text("改派会话")
    if english := english_on_page(page, allowed=ALLOWED_LATIN):
        found["reassign action"] = english
    _shot(page, "admin-zh-reassign-action")
    assert found == {}
