"""The two demo pages are served by the sandbox itself, with no file from anywhere else."""

from __future__ import annotations

import re

import pytest
import requests

from tests.support.sandbox import Sandbox


@pytest.mark.parametrize("path", ["/sandbox/customer", "/sandbox/servicer", "/sandbox/"])
def test_the_page_is_served_with_local_assets_only(sandbox: Sandbox, path: str):
    response = requests.get(sandbox.robot_url + path, timeout=5)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/html")
    html = response.text
    assert 'lang="zh-CN"' in html
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert assets
    for asset in assets:
        assert asset.startswith(("/sandbox/", "data:")), asset
        if asset.startswith("/sandbox/static/"):
            static = requests.get(sandbox.robot_url + asset, timeout=5)
            assert static.status_code == 200, asset
            assert not re.search(r"https?://(?!127\.0\.0\.1|localhost)", static.text.replace("http://www.w3.org", ""))


def test_the_pages_know_the_control_message_numbers(sandbox: Sandbox):
    script = requests.get(sandbox.robot_url + "/sandbox/static/common.js", timeout=5).text
    for number in ("1001", "1002", "1003", "1004", "1005", "1101", "1102", "1103", "1104"):
        assert number in script
