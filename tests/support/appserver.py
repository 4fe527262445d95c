"""The App Server (``python -m robots.appserver``) as a real process in front of the sandbox, for tests."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from django.conf import settings as django_settings

from tests.support.processes import free_port, http_status, python, running, wait_until

if TYPE_CHECKING:
    from tests.support.sandbox import Sandbox

APP_SERVER_KEY = "k" * 40


@pytest.fixture
def app_server(sandbox: Sandbox, tmp_path: Path) -> Iterator[str]:
    """The App Server's URL; it signs with ``APP_SERVER_KEY`` and calls the session's sandbox."""
    port = free_port()
    env = {
        **os.environ,
        "CS_APP_SERVER_KEY": APP_SERVER_KEY,
        "CS_APP_SERVER_PORT": str(port),
        "WFC_ADMIN_API_URL": sandbox.admin_url,
        "WFC_ADMIN_SECRET": sandbox.admin_secret,
        "REDIS_URL": django_settings.REDIS_URL,  # its record of seen nonces
    }
    url = f"http://127.0.0.1:{port}"
    with running(python("-m", "robots.appserver"), env=env, log=tmp_path / "appserver.log"):
        wait_until(lambda: http_status(f"{url}/healthz") == 200, timeout=20, what="the app server")
        yield url
