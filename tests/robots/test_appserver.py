"""App-server mode: the CS server holds no admin secret and asks the App Server, over signed HTTP."""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import redis
import requests
from django.conf import settings as django_settings

from robots.appserver.auth import HEADER_NONCE, HEADER_SIGNATURE, HEADER_TIMESTAMP, MAX_SKEW_SECONDS, signed_headers
from robots.appserver.client import AppServerImAdmin
from robots.wfprotocol import WfcAuthError, WfcTransportError
from tests.support.processes import free_port, http_status, python, running, wait_until

if TYPE_CHECKING:
    from tests.support.sandbox import Sandbox

KEY = "k" * 40


@contextmanager
def _app_server_process(sandbox: Sandbox, log: Path, *, redis_url: str | None = None) -> Iterator[str]:
    """``python -m robots.appserver`` on a free port, on the test Redis unless told otherwise."""
    port = free_port()
    env = {
        **os.environ,
        "CS_APP_SERVER_KEY": KEY,
        "CS_APP_SERVER_PORT": str(port),
        "WFC_ADMIN_API_URL": sandbox.admin_url,
        "WFC_ADMIN_SECRET": sandbox.admin_secret,
        "REDIS_URL": redis_url or django_settings.REDIS_URL,
    }
    url = f"http://127.0.0.1:{port}"
    with running(python("-m", "robots.appserver"), env=env, log=log):
        wait_until(lambda: http_status(f"{url}/healthz") == 200, timeout=20, what="the app server")
        yield url


@pytest.fixture
def app_server(sandbox: Sandbox, tmp_path: Path, redis_client: redis.Redis) -> Iterator[str]:
    with _app_server_process(sandbox, tmp_path / "appserver.log") as url:
        yield url


def _raw(url: str, path: str, body: dict[str, object], headers: dict[str, str]) -> requests.Response:
    return requests.post(url + path, data=json.dumps(body).encode(), headers=headers, timeout=5)


def test_it_creates_a_shadow_and_reads_it_back(app_server: str, sandbox: Sandbox) -> None:
    admin = AppServerImAdmin(app_server, KEY)
    user_id, secret = admin.create_robot(
        user_id="cust1_csshadow", name="cust1_csshadow", display_name="顾客", secret="s" * 20, callback="http://x/cb"
    )
    assert (user_id, secret) == ("cust1_csshadow", "s" * 20)
    info = admin.get_robot_info(robot_id="cust1_csshadow")
    assert info.callback == "http://x/cb"
    assert info.display_name == "顾客"


def test_setting_a_robot_s_secret_and_callback_keeps_its_profile(app_server: str, sandbox: Sandbox) -> None:
    robot_id = f"as{time.time_ns()}_csshadow"
    profile = {"displayName": "小助手", "portrait": "https://img.example.com/p.png", "extra": '{"a":1}'}
    sandbox.admin("/admin/robot/create", {"userId": robot_id, "name": robot_id, "secret": "old", **profile})
    admin = AppServerImAdmin(app_server, KEY)
    upsert = admin.upsert_robot_keeping_profile(
        user_id=robot_id, secret="", callback="http://x/cb", name=robot_id, display_name="在线客服"
    )
    assert (upsert.user_id, upsert.secret, upsert.created) == (robot_id, "old", False)
    info = admin.get_robot_info(robot_id=robot_id)
    assert (info.display_name, info.portrait, info.extra) == tuple(profile.values())
    assert info.callback == "http://x/cb"
    with pytest.raises(WfcAuthError, match="not a customer-service robot"):
        admin.upsert_robot_keeping_profile(
            user_id="FireRobot", secret="", callback="http://x/cb", name="FireRobot", display_name="x"
        )


def test_it_refuses_robots_that_are_not_customer_service_robots(app_server: str) -> None:
    with pytest.raises(WfcAuthError, match="not a customer-service robot"):
        AppServerImAdmin(app_server, KEY).create_robot(
            user_id="FireRobot", name="FireRobot", display_name="x", secret="s" * 20, callback="http://x/cb"
        )


def test_it_refuses_a_wrong_key(app_server: str) -> None:
    with pytest.raises(WfcAuthError, match="bad signature"):
        AppServerImAdmin(app_server, "w" * 40).get_user_info(user_id="anyone")


def test_it_refuses_a_replayed_request(app_server: str) -> None:
    body = {"user_id": "nobody"}
    data = json.dumps(body).encode()
    headers = signed_headers(KEY, path="/cs/user/info", body=data)
    first = requests.post(app_server + "/cs/user/info", data=data, headers=headers, timeout=5)
    assert first.status_code == 404  # authenticated; the user just does not exist
    again = requests.post(app_server + "/cs/user/info", data=data, headers=headers, timeout=5)
    assert (again.status_code, again.json()) == (401, {"error": "replayed request"})


def test_it_refuses_a_stale_request(app_server: str) -> None:
    data = json.dumps({"user_id": "nobody"}).encode()
    headers = signed_headers(KEY, path="/cs/user/info", body=data, now=time.time() - 600)
    answer = requests.post(app_server + "/cs/user/info", data=data, headers=headers, timeout=5)
    assert answer.status_code == 401
    assert "stale" in answer.json()["error"]


def test_it_refuses_a_tampered_body(app_server: str) -> None:
    headers = signed_headers(KEY, path="/cs/user/info", body=b'{"user_id": "a"}')
    answer = requests.post(app_server + "/cs/user/info", data=b'{"user_id": "b"}', headers=headers, timeout=5)
    assert (answer.status_code, answer.json()["error"]) == (401, "bad signature")


def test_it_refuses_missing_headers(app_server: str) -> None:
    answer = _raw(app_server, "/cs/user/info", {"user_id": "a"}, {HEADER_TIMESTAMP: "1", HEADER_SIGNATURE: "x"})
    assert answer.status_code == 401


@pytest.mark.parametrize(
    "timestamp", ["²", "1" * 5000, "١٧٠٠٠٠٠٠٠٠"], ids=["superscript", "5000-digits", "arabic-indic"]
)
def test_a_timestamp_that_is_not_plain_ascii_digits_gets_a_401_not_a_500(app_server: str, timestamp: str) -> None:
    headers = {HEADER_TIMESTAMP: timestamp, HEADER_NONCE: "n" * 32, HEADER_SIGNATURE: "x" * 64}
    answer = requests.post(
        app_server + "/cs/user/info",
        data=b'{"user_id": "a"}',
        headers={name: value.encode() for name, value in headers.items()},
        timeout=5,
    )
    assert (answer.status_code, answer.json()["error"]) == (401, "missing or malformed authentication headers")


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"\xff\xfe{}", "body is not JSON"),
        (b"[" * 10_000 + b"]" * 10_000, "body nested deeper than 32 levels"),
        (b'{"user_id": ' + b"9" * 5000 + b"}", "body is not JSON"),
        (b"{not json", "body is not JSON"),
    ],
    ids=["not-utf8", "nested-10000", "huge-integer", "not-json"],
)
def test_a_signed_body_that_is_not_json_gets_a_400_not_a_500(app_server: str, data: bytes, reason: str) -> None:
    headers = signed_headers(KEY, path="/cs/user/info", body=data)
    answer = requests.post(app_server + "/cs/user/info", data=data, headers=headers, timeout=5)
    assert (answer.status_code, answer.json()) == (400, {"error": reason})


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("display_name", "a\u0000b", "body contains a NUL character"),
        ("display_name", "\ud800", "body contains a lone surrogate (not Unicode text)"),
        ("portrait", 1e400, "body contains a number that is not finite"),
        ("portrait", json.loads("[" * 33 + "]" * 33), "body nested deeper than 32 levels"),
    ],
    ids=["nul", "lone-surrogate", "infinity", "nested-33"],
)
def test_json_the_project_refuses_never_reaches_the_im_server(
    app_server: str, sandbox: Sandbox, field: str, value: object, reason: str
) -> None:
    """cs_project.json_input, as for callbacks, the console and the API. Before: a NUL was stored on
    the IM server as the robot's name, a lone surrogate answered "body is not JSON" only because
    encoding it for the IM server failed, and nesting below Python's recursion limit passed."""
    robot_id = f"policy{time.time_ns()}_csshadow"
    body = {"robot_id": robot_id, "display_name": "顾客", "secret": "s" * 20, "callback": "http://x/cb", field: value}
    data = json.dumps(body).encode()
    headers = signed_headers(KEY, path="/cs/robot/upsert", body=data)
    answer = requests.post(app_server + "/cs/robot/upsert", data=data, headers=headers, timeout=5)
    assert (answer.status_code, answer.json()) == (400, {"error": reason})
    missing = sandbox.admin_post("/admin/user/get_robot_info", {"robotId": robot_id}).json()
    assert missing["code"] != 0, "nothing was created on the IM server"


def test_an_oversized_body_gets_a_413_with_a_json_reason(app_server: str) -> None:
    data = json.dumps({"user_id": "x" * 70_000}).encode()
    headers = signed_headers(KEY, path="/cs/user/info", body=data)
    answer = requests.post(app_server + "/cs/user/info", data=data, headers=headers, timeout=5)
    assert (answer.status_code, answer.json()) == (413, {"error": "body larger than 65536 bytes"})


def test_header_names_are_read_without_regard_to_case(app_server: str) -> None:
    data = json.dumps({"user_id": "nobody"}).encode()
    headers = {name.lower(): value for name, value in signed_headers(KEY, path="/cs/user/info", body=data).items()}
    answer = requests.post(app_server + "/cs/user/info", data=data, headers=headers, timeout=5)
    assert answer.status_code == 404, "authenticated (the user just does not exist)"


def _signed(path: str, body: dict[str, object]) -> tuple[bytes, dict[str, str]]:
    data = json.dumps(body).encode()
    return data, signed_headers(KEY, path=path, body=data)


def test_a_request_replayed_against_a_second_app_server_is_refused(
    app_server: str, sandbox: Sandbox, tmp_path: Path, redis_client: redis.Redis
) -> None:
    data, headers = _signed("/cs/user/info", {"user_id": "nobody"})
    assert requests.post(app_server + "/cs/user/info", data=data, headers=headers, timeout=5).status_code == 404
    nonce_key = f"cs:appserver:nonce:{headers[HEADER_NONCE]}".encode()
    assert redis_client.exists(nonce_key), "the nonce is kept in Redis, where every App Server process sees it"
    assert 0 < redis_client.ttl(nonce_key) <= 2 * MAX_SKEW_SECONDS + 1, "and forgotten once it could not be fresh"
    with _app_server_process(sandbox, tmp_path / "second.log") as second:
        again = requests.post(second + "/cs/user/info", data=data, headers=headers, timeout=5)
    assert (again.status_code, again.json()) == (401, {"error": "replayed request"})


def test_a_request_replayed_after_the_app_server_restarts_is_refused(
    sandbox: Sandbox, tmp_path: Path, redis_client: redis.Redis
) -> None:
    data, headers = _signed("/cs/user/info", {"user_id": "nobody"})
    with _app_server_process(sandbox, tmp_path / "before.log") as before:
        assert requests.post(before + "/cs/user/info", data=data, headers=headers, timeout=5).status_code == 404
    with _app_server_process(sandbox, tmp_path / "after.log") as after:
        again = requests.post(after + "/cs/user/info", data=data, headers=headers, timeout=5)
        assert (again.status_code, again.json()) == (401, {"error": "replayed request"})
        fresh_data, fresh_headers = _signed("/cs/user/info", {"user_id": "nobody"})
        fresh = requests.post(after + "/cs/user/info", data=fresh_data, headers=fresh_headers, timeout=5)
        assert fresh.status_code == 404, "a new request is still served"


def test_without_redis_it_refuses_every_request_with_a_retryable_503(sandbox: Sandbox, tmp_path: Path) -> None:
    """Fail closed: without the shared record of nonces a replay could not be told from a request."""
    log = tmp_path / "appserver.log"
    with _app_server_process(sandbox, log, redis_url=f"redis://127.0.0.1:{free_port()}/0") as url:
        data, headers = _signed("/cs/user/info", {"user_id": "nobody"})
        answer = requests.post(url + "/cs/user/info", data=data, headers=headers, timeout=10)
        assert answer.status_code == 503
        assert answer.json() == {"error": "replay check unavailable (Redis unreachable); try again", "retryable": True}
        with pytest.raises(WfcTransportError, match="replay check unavailable"):
            AppServerImAdmin(url, KEY).get_user_info(user_id="nobody")
        # A forged request is refused for its signature, before Redis is asked.
        with pytest.raises(WfcAuthError, match="bad signature"):
            AppServerImAdmin(url, "w" * 40).get_user_info(user_id="nobody")
    logged = log.read_text()
    assert "replay check unavailable" in logged
    assert "/cs/user/info" in logged
    assert KEY not in logged


def test_it_will_not_start_without_redis_url(sandbox: Sandbox) -> None:
    env = {name: value for name, value in os.environ.items() if name != "REDIS_URL"}
    env |= {"CS_APP_SERVER_KEY": KEY, "WFC_ADMIN_SECRET": sandbox.admin_secret, "CS_APP_SERVER_PORT": str(free_port())}
    started = subprocess.run(
        python("-m", "robots.appserver"), env=env, capture_output=True, text=True, timeout=30, check=False
    )
    assert started.returncode != 0
    assert "REDIS_URL" in started.stderr
