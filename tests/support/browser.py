"""Real Chromium for the browser tests (Debian's ``chromium``, driven by Playwright), and Daphne
alone on the test database for pages that need no IM server or worker.

Fixtures: ``browser`` (one Chromium per test; the test fails if any page of it reports a
Content-Security-Policy violation, collected in ``csp_violations``), ``daphne`` (the base URL of a
Daphne process on the test database and Redis) and ``daphne_page`` (a page on it that fails the
test on a JavaScript error). ``shot`` keeps a screenshot in test-artifacts/screenshots/.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, sync_playwright
from pytest_django.fixtures import Settings as SettingsWrapper

from tests.support.processes import BASE_DIR, free_port, http_status, python, running, wait_until

SCREENSHOTS = BASE_DIR / "test-artifacts" / "screenshots"
# As the machine's notes say: without the background-networking flags Chromium keeps knocking on
# the closed network; a fresh profile each launch (Playwright's default).
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def shot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"{name}.png")


# Reports each violation to the test: the event every page fires (a script, a style, a socket or a
# form the policy refused). Init scripts and exposed functions are outside the page's CSP.
_CSP_LISTENER = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolation(`${event.effectiveDirective} refused ${event.blockedURI || "inline"} on ${event.documentURI}`);
});
"""


def csp_watch(context: BrowserContext, violations: list[str]) -> None:
    """Collect ``context``'s CSP violations: the pages' events and Chromium's console errors."""

    def from_page(report: str) -> None:
        violations.append(report)

    def from_console(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            violations.append(message.text)

    context.expose_function("__cspViolation", from_page)
    context.add_init_script(_CSP_LISTENER)
    context.on("console", from_console)


@pytest.fixture
def csp_violations() -> list[str]:
    """Every Content-Security-Policy violation of the test's browser contexts; must stay empty."""
    return []


@pytest.fixture
def browser(monkeypatch: pytest.MonkeyPatch, csp_violations: list[str]) -> Iterator[Browser]:
    # Playwright's sync API keeps an event loop on this thread; the test's own ORM calls are
    # ordinary blocking calls between browser steps.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        new_context = chromium.new_context

        def watched_context(**options: Any) -> BrowserContext:
            context = new_context(**options)
            csp_watch(context, csp_violations)
            return context

        chromium.new_context = watched_context  # type: ignore[method-assign]  # every context, every test
        yield chromium
        chromium.close()
    assert csp_violations == [], "no page may break the Content-Security-Policy"


@pytest.fixture
def daphne(settings: SettingsWrapper, transactional_db: None, tmp_path: Path) -> Iterator[str]:
    """Daphne (the project's entry point) alone on the test database and the test Redis."""
    db = connection.settings_dict
    user, host, port = db["USER"] or "postgres", db["HOST"] or "127.0.0.1", db["PORT"] or 5432
    http_port = free_port()
    env = {
        **os.environ,
        "DJANGO_DEBUG": "1",
        "DATABASE_URL": f"postgres://{user}@{host}:{port}/{db['NAME']}",
        "REDIS_URL": settings.REDIS_URL,
        "CS_VAR_DIR": str(tmp_path),
        "CS_PUBLIC_URL": f"http://127.0.0.1:{http_port}",  # the pages' origin (websockets check it)
        "CS_INBOUND_DRAIN": "request",  # alone: no inbound_stream process acts on a callback
    }
    argv = python(
        "-m", "cs_project.asgi_server", "-b", "127.0.0.1", "-p", str(http_port), "cs_project.asgi:application"
    )
    with running(argv, env=env, log=tmp_path / "daphne.log"):
        url = f"http://127.0.0.1:{http_port}"
        wait_until(lambda: http_status(f"{url}/healthz") in (200, 503), timeout=60, what="Daphne to serve")
        yield url


@pytest.fixture
def daphne_page(daphne: str, browser: Browser) -> Iterator[Page]:
    """A Chinese-locale page on ``daphne``; the test fails on any uncaught JavaScript error."""
    errors: list[str] = []
    context = browser.new_context(base_url=daphne, locale="zh-CN", viewport={"width": 1440, "height": 860})
    context.set_default_timeout(10_000)
    opened = context.new_page()
    opened.on("pageerror", lambda error: errors.append(str(error)))
    yield opened
    context.close()
    assert errors == [], "no uncaught JavaScript errors"


def english_on_page(page: Page, *, allowed: re.Pattern[str]) -> list[str]:
    """The visible lines, button labels and placeholders of ``page`` with a Latin word of three
    letters or more that ``allowed`` does not match, and no Chinese: what a Chinese user would meet
    in English."""
    texts: list[str] = page.evaluate(
        """() => {
            const shown = (el) => el.offsetParent !== null || el.getClientRects().length > 0;
            const lines = document.body.innerText.split('\\n');
            for (const el of document.querySelectorAll('input[type=submit], input[type=button], [placeholder]')) {
                if (shown(el)) lines.push(el.value && el.type !== 'text' ? el.value : el.placeholder || '');
            }
            return lines.map((line) => line.trim()).filter(Boolean);
        }"""
    )
    english = []
    for text in texts:
        if re.search(r"[\u4e00-\u9fff]", text):
            continue
        words = re.findall(r"[A-Za-z][\w/.-]*[A-Za-z0-9]", text)
        if any(len(word) >= 3 and not allowed.match(word) for word in words):
            english.append(text)
    return english
