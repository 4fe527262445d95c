"""§1 and §3: which port routes which path, POST only, bare 500s, and the envelope's shape."""

from __future__ import annotations

import json

import pytest
import requests

from tests.support.sandbox import Sandbox, robot_headers, signed_headers
from tests.wfsandbox.conftest import RobotAccount


@pytest.mark.parametrize("path", ["/robot/no_such_action", "/robot/message/reply", "/robot/friend/list", "/", "/api/x"])
def test_an_unknown_path_on_the_robot_port_is_a_bare_500(sandbox: Sandbox, robot: RobotAccount, path: str):
    response = requests.post(sandbox.robot_url + path, headers=robot_headers(robot.robot_id, robot.secret), timeout=5)
    assert response.status_code == 500
    assert response.content == b""


@pytest.mark.parametrize("path", ["/admin/no_such_action", "/admin", "/", "/sandbox/api/config"])
def test_an_unknown_path_on_the_admin_port_is_a_bare_500(sandbox: Sandbox, path: str):
    response = requests.post(sandbox.admin_url + path, headers=signed_headers(sandbox.admin_secret), timeout=5)
    assert response.status_code == 500
    assert response.content == b""


def test_a_robot_path_on_the_admin_port_is_a_bare_500(sandbox: Sandbox, robot: RobotAccount):
    headers = robot_headers(robot.robot_id, robot.secret)
    response = requests.post(sandbox.admin_url + "/robot/profile", headers=headers, timeout=5)
    assert response.status_code == 500
    assert response.content == b""


def test_an_admin_path_on_the_robot_port_is_a_bare_500(sandbox: Sandbox):
    for path in ("/admin/user/get_info", "/admin/health"):
        response = requests.post(sandbox.robot_url + path, headers=signed_headers(sandbox.admin_secret), timeout=5)
        assert response.status_code == 500
        assert response.content == b""


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH"])
def test_robot_actions_answer_post_only(sandbox: Sandbox, robot: RobotAccount, method: str):
    headers = robot_headers(robot.robot_id, robot.secret)
    response = requests.request(method, sandbox.robot_url + "/robot/profile", headers=headers, timeout=5)
    assert response.status_code == 500
    assert response.content == b""


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH"])
def test_admin_actions_answer_post_only(sandbox: Sandbox, method: str):
    headers = signed_headers(sandbox.admin_secret)
    response = requests.request(method, sandbox.admin_url + "/admin/user/get_info", headers=headers, timeout=5)
    assert response.status_code == 500
    assert response.content == b""


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE"])
def test_health_is_not_routed_for_post_put_or_delete(sandbox: Sandbox, method: str):
    # HealthAction has no @HttpMethod, so ServerSetting files it under GET; a POST finds no action
    # under /admin and falls through to UnknownErrorAction.
    response = requests.request(method, sandbox.admin_url + "/admin/health", timeout=5)
    assert response.status_code == 500
    assert response.content == b""


@pytest.mark.parametrize("method", ["GET", "PATCH", "OPTIONS"])
def test_health_answers_every_method_that_reads_the_get_table(sandbox: Sandbox, method: str):
    # ServerSetting.getActionMap: a method other than POST, PUT and DELETE is looked up among the GETs.
    response = requests.request(method, sandbox.admin_url + "/admin/health", timeout=5)
    assert response.status_code == 200
    assert response.json()["code"] == 0


@pytest.mark.parametrize(
    ("port", "path"), [("admin", "/admin/health"), ("admin", "/admin/user/get_info"), ("robot", "/robot/profile")]
)
def test_head_is_an_empty_200_on_any_path_before_routing(sandbox: Sandbox, port: str, path: str):
    base = sandbox.admin_url if port == "admin" else sandbox.robot_url
    response = requests.head(base + path, timeout=5)
    assert response.status_code == 200
    assert response.content == b""


def test_the_result_key_is_absent_when_there_is_no_result(sandbox: Sandbox, robot: RobotAccount):
    response = sandbox.robot_post("/robot/delete_callback", robot_id=robot.robot_id, secret=robot.secret)
    assert response.json() == {"code": 0, "msg": "success"}
    assert "result" not in response.text


def test_an_error_from_an_action_has_no_result(sandbox: Sandbox, robot: RobotAccount):
    response = sandbox.robot_post("/robot/user_info", {}, robot_id=robot.robot_id, secret=robot.secret)
    assert response.status_code == 200
    assert response.json() == {"code": 251, "msg": "Invalid parameter"}


def test_responses_are_json_in_utf8(sandbox: Sandbox, robot: RobotAccount):
    response = sandbox.robot_post("/robot/profile", robot_id=robot.robot_id, secret=robot.secret)
    assert response.headers["Content-Type"].startswith("application/json")
    assert "charset=utf-8" in response.headers["Content-Type"]


def test_a_body_that_is_not_json_is_a_bare_500_after_the_signature_check(sandbox: Sandbox, robot: RobotAccount):
    headers = {**robot_headers(robot.robot_id, robot.secret), "Content-Type": "application/json"}
    response = requests.post(sandbox.robot_url + "/robot/message/send", data=b"{not json", headers=headers, timeout=5)
    assert response.status_code == 500
    assert response.content == b""
    bad_sign = {**headers, "sign": "0" * 40}
    response = requests.post(sandbox.robot_url + "/robot/message/send", data=b"{not json", headers=bad_sign, timeout=5)
    assert response.json()["code"] == 244


def test_an_action_that_reads_no_body_ignores_junk(sandbox: Sandbox, robot: RobotAccount):
    headers = robot_headers(robot.robot_id, robot.secret)
    response = requests.post(sandbox.robot_url + "/robot/get_callback", data=b"junk", headers=headers, timeout=5)
    assert response.json()["code"] == 0


def test_a_field_of_the_wrong_kind_is_a_bare_500_like_a_gson_error(sandbox: Sandbox, robot: RobotAccount):
    body = {"conv": {"type": "private", "target": "x", "line": 0}, "payload": {"type": 1}}
    response = sandbox.robot_post("/robot/message/send", body, robot_id=robot.robot_id, secret=robot.secret)
    assert response.status_code == 500


def test_numbers_may_come_as_strings_as_gson_allows(sandbox: Sandbox, robot: RobotAccount, customer: str):
    body = {"conv": {"type": "0", "target": customer, "line": "0"}, "payload": {"type": "1", "searchableContent": 7}}
    result = sandbox.robot("/robot/message/send", body, robot_id=robot.robot_id, secret=robot.secret)
    assert isinstance(result["messageUid"], int)
    assert sandbox.inbox(customer)[-1]["payload"]["searchableContent"] == "7"


def test_unknown_keys_are_ignored(sandbox: Sandbox, robot: RobotAccount):
    response = sandbox.robot_post(
        "/robot/set_callback", {"url": "http://127.0.0.1:9/x", "extra": 1}, robot_id=robot.robot_id, secret=robot.secret
    )
    assert json.loads(response.text) == {"code": 0, "msg": "success"}
