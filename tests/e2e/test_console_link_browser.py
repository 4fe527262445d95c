"""The console's link in real Chromium when the server accepts every websocket and then drops it:
a persistent error instead of a flicker between "connected" and "retrying", gone once a
connection holds. The websocket goes to the real Daphne through Playwright's route, which
closes each connection right after the server's hello while the test says so.
"""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import Page, WebSocketRoute, expect

from seats.services import seat_create_with_user
from tests.support.browser import shot

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

# What the page's link state went through, recorded in the page as it happens.
RECORD_STATES = """
window.linkStates = [];
new MutationObserver(() => window.linkStates.push(document.getElementById("link-state").dataset.state))
  .observe(document.getElementById("link-state"), { attributes: true, attributeFilter: ["data-state"] });
"""


@pytest.fixture
def page(daphne_page: Page) -> Page:
    return daphne_page


@pytest.mark.parametrize("dropped", ["after the hello", "before the hello"])
def test_a_link_that_keeps_failing_shows_a_persistent_error_until_a_connection_holds(page: Page, dropped: str) -> None:
    seat_create_with_user(username="alice", password="alice-pw", display_name="Alice", im_user_id="alice-im")
    dropping = {"on": True, "connections": 0}

    def through_to_daphne(socket: WebSocketRoute) -> None:
        server = socket.connect_to_server()
        dropping["connections"] += 1

        def from_server(message: str | bytes) -> None:
            is_hello = isinstance(message, str) and json.loads(message).get("type") == "hello"
            if dropping["on"] and is_hello:
                if dropped == "after the hello":
                    socket.send(message)
                socket.close(code=1011, reason="server error")
                server.close()
                return
            socket.send(message)

        server.on_message(from_server)

    page.route_web_socket("**/ws/console/", through_to_daphne)
    page.goto("/console/")
    page.fill("input[name=username]", "alice")
    page.fill("input[name=password]", "alice-pw")
    page.click("button[type=submit]")

    link, banner = page.locator("#link-state"), page.locator("#banner")
    expect(link).to_have_attribute("data-state", "failing", timeout=20_000)
    expect(link).to_contain_text("连接异常")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("连接服务器后反复中断")
    shot(page, f"link-failing-{dropped.replace(' ', '-')}")
    page.evaluate(RECORD_STATES)
    failed_so_far = dropping["connections"]
    # It keeps trying, with growing pauses, and says "failing" all along: no "connected" in between.
    assert failed_so_far >= 3
    page.wait_for_timeout(6_000)
    assert dropping["connections"] > failed_so_far, "the console keeps retrying"
    assert set(page.evaluate("window.linkStates")) <= {"failing"}, page.evaluate("window.linkStates")
    expect(banner).to_be_visible()

    # The server recovers: once a connection has held, the console says connected and the banner goes.
    dropping["on"] = False
    expect(link).to_have_attribute("data-state", "connected", timeout=40_000)
    expect(banner).to_be_hidden()
    shot(page, f"link-recovered-{dropped.replace(' ', '-')}")
