"""App-server mode: the CS server holds no admin secret and asks the App Server, over signed HTTP."""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING

import pytest
import requests

from robots.appserver.auth import HEADER_SIGNATURE, HEADER_TIMESTAMP, signed_headers
from robots.appserver.client import AppServerImAdmin
from robots.wfprotocol import WfcAuthError
from tests.support.appserver import APP_SERVER_KEY as KEY

if TYPE_CHECKING:
    from tests.support.sandbox import Sandbox


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
