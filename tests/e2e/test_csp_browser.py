"""Every kind of page works in real Chromium under the Content-Security-Policy, with no violation.

The ``browser`` fixture (tests/support/browser.py) fails any browser test whose pages report a
violation; here each page type is opened and used once: the admin, the live view (its websocket),
the reports, the API docs (Swagger UI), the console's login and language switch, the rating form.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from ratings.models import Rating
from ratings.services import rating_token
from seats.models import Seat
from seats.services import seat_create_with_user, supervisor_create
from sessions_app.models import ServiceSession
from tests.factories import session_make

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


def _reported(page: Page, violations: list[str], directive: str) -> bool:
    for _ in range(25):  # the report arrives through Playwright's event loop: let it run
        if any(directive in violation for violation in violations):
            return True
        page.wait_for_timeout(100)
    return False


def test_the_watch_sees_inline_script_and_style_refused(daphne_page: Page, csp_violations: list[str]) -> None:
    """The policy is enforced and the fixture would notice a page breaking it."""
    daphne_page.goto("/console/login/")
    daphne_page.evaluate("document.body.setAttribute('style', 'background: red')")
    assert _reported(daphne_page, csp_violations, "style-src-attr")
    daphne_page.evaluate(
        "(() => { const s = document.createElement('script'); s.textContent = 'window.ran = 1'; "
        "document.body.append(s); })()"
    )
    assert _reported(daphne_page, csp_violations, "script-src-elem")
    assert daphne_page.evaluate("window.ran") is None, "the inline script did not run"
    csp_violations.clear()  # provoked on purpose


def test_the_supervisors_pages_work_under_the_policy(daphne: str, browser: Browser) -> None:
    supervisor_create(username="supervisor", password="supervisor-pw")
    seat = seat_create_with_user(username="wang", password="wang-pw", display_name="客服小王", capacity=3)
    Seat.objects.filter(pk=seat.pk).update(status=Seat.Status.ONLINE, active_sessions=2)
    context = browser.new_context(base_url=daphne, locale="zh-CN", viewport={"width": 1360, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.goto("/admin/login/?next=/admin/")
    page.fill("input[name=username]", "supervisor")
    page.fill("input[name=password]", "supervisor-pw")
    page.click("input[type=submit]")
    expect(page).to_have_url(re.compile(r"/admin/$"))

    page.goto("/admin/seats/seat/")
    expect(page.locator("#result_list meter.cs-load")).to_have_attribute("value", "67")
    page.goto(f"/admin/seats/seat/{seat.pk}/change/")
    expect(page.locator("input[name=display_name]")).to_have_value("客服小王")
    page.goto("/admin/live/")
    expect(page.locator("#cs-connection")).to_have_attribute("data-state", "live")  # the websocket opened
    expect(page.locator(f'#cs-seats tr[data-seat="{seat.pk}"] meter.cs-load')).to_have_attribute("value", "2")
    page.goto("/admin/reports/")
    expect(page.locator("svg.cs-chart").first).to_be_visible()
    page.goto("/api/docs/")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Wildfire customer service API")
    context.close()


def test_the_console_login_and_the_rating_form_work_under_the_policy(daphne: str, browser: Browser) -> None:
    seat = seat_create_with_user(username="alice", password="alice-pw", display_name="Alice", im_user_id="alice-im")
    session = session_make(seat=seat, state=ServiceSession.State.CLOSED)
    context = browser.new_context(base_url=daphne, locale="zh-CN")
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.goto("/console/login/")
    page.click(".language-switch button[value=en]")  # a form posted to /i18n/setlang/, then redirected back
    expect(page.locator("html")).to_have_attribute("lang", "en")

    page.goto(f"/rate/{rating_token(session=session)}/")
    page.locator(".star").nth(0).click()
    page.click("button[type=submit]")
    expect(page.locator("main")).to_contain_text("Thank")
    assert Rating.objects.filter(session=session).exists()
    context.close()
