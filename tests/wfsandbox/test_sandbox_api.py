"""The sandbox's own API (``/sandbox/api/*``): inspection, client sends, users and run-time config."""

from __future__ import annotations

import time

import requests

from tests.support.sandbox import Sandbox
from tests.wfsandbox.conftest import RobotAccount, unique

TEXT = {"type": 1, "searchableContent": "hello", "persistFlag": 3}


def test_messages_lists_a_users_inbox_oldest_first(sandbox: Sandbox, robot: RobotAccount, customer: str):
    first = sandbox.client_send(customer, robot.robot_id, {**TEXT, "searchableContent": "one"})["result"]
    body = {"conv": {"type": 0, "target": customer, "line": 0}, "payload": {**TEXT, "searchableContent": "two"}}
    second = sandbox.robot("/robot/message/send", body, robot_id=robot.robot_id, secret=robot.secret)
    inbox = sandbox.inbox(customer)
    assert [m["payload"]["searchableContent"] for m in inbox] == ["one", "two"]
    assert [m["messageUid"] for m in inbox] == [first["messageUid"], second["messageUid"]]
    assert set(inbox[0]) == {"sender", "conv", "payload", "messageUid", "timestamp"}
    assert inbox[0]["timestamp"] == first["timestamp"]
    assert inbox[1]["sender"] == robot.robot_id


def test_messages_after_a_uid_returns_only_newer_ones(sandbox: Sandbox, robot: RobotAccount, customer: str):
    uids = [sandbox.client_send(customer, robot.robot_id, TEXT)["result"]["messageUid"] for _ in range(3)]
    assert [m["messageUid"] for m in sandbox.inbox(customer, after=uids[0])] == uids[1:]
    assert sandbox.inbox(customer, after=uids[-1]) == []


def test_messages_needs_a_user(sandbox: Sandbox):
    assert requests.get(f"{sandbox.robot_url}/sandbox/api/messages", timeout=5).status_code == 400
    response = requests.get(f"{sandbox.robot_url}/sandbox/api/messages?user=x&after=abc", timeout=5)
    assert response.status_code == 400


def test_client_send_from_an_unknown_user_is_253(sandbox: Sandbox, robot: RobotAccount):
    assert sandbox.client_send(unique("ghost"), robot.robot_id, TEXT)["code"] == 253


def test_client_send_may_not_send_a_recall(sandbox: Sandbox, robot: RobotAccount, customer: str):
    assert sandbox.client_send(customer, robot.robot_id, {"type": 80})["code"] == 251


def test_users_can_be_listed_and_created(sandbox: Sandbox):
    user_id = unique("page_user")
    created = requests.post(
        f"{sandbox.robot_url}/sandbox/api/users", json={"userId": user_id, "displayName": "访客"}, timeout=5
    )
    assert created.status_code == 201
    assert created.json()["type"] == 0
    again = requests.post(f"{sandbox.robot_url}/sandbox/api/users", json={"userId": user_id}, timeout=5)
    assert (again.status_code, again.json()["displayName"]) == (200, "访客")
    normal = requests.get(f"{sandbox.robot_url}/sandbox/api/users?type=0", timeout=5).json()
    assert user_id in {u["userId"] for u in normal}
    generated = requests.post(f"{sandbox.robot_url}/sandbox/api/users", json={}, timeout=5).json()
    assert generated["userId"]


def test_config_changes_the_robot_rate_limit(fresh_sandbox: Sandbox):
    assert fresh_sandbox.configure(robotRateLimit=2)["robotRateLimit"] == 2
    secret = fresh_sandbox.create_robot("r", secret="s")
    codes = [fresh_sandbox.robot_post("/robot/profile", robot_id="r", secret=secret).json()["code"] for _ in range(4)]
    assert codes[:2] == [0, 0]
    assert codes[-1] == 250


def test_config_rejects_bad_values_and_changes_nothing(sandbox: Sandbox):
    before = requests.get(f"{sandbox.robot_url}/sandbox/api/config", timeout=5).json()
    for patch in ({"robotRateLimit": 0}, {"failMode": "explode"}, {"nope": 1}, {"robotRateLimit": 5, "failCode": "x"}):
        response = requests.post(f"{sandbox.robot_url}/sandbox/api/config", json=patch, timeout=5)
        assert response.status_code == 400, patch
        assert response.json()["error"]
    assert requests.get(f"{sandbox.robot_url}/sandbox/api/config", timeout=5).json() == before


def test_fail_mode_http500_breaks_both_apis_until_reset(fresh_sandbox: Sandbox):
    secret = fresh_sandbox.create_robot("r", secret="s")
    fresh_sandbox.configure(failMode="http500")
    assert fresh_sandbox.robot_post("/robot/profile", robot_id="r", secret=secret).status_code == 500
    assert fresh_sandbox.admin_post("/admin/user/get_info", {"userId": "r"}).status_code == 500
    fresh_sandbox.configure(failMode="none")
    assert fresh_sandbox.robot_post("/robot/profile", robot_id="r", secret=secret).json()["code"] == 0


def test_fail_mode_http503_answers_like_a_proxy_whose_im_server_is_away(fresh_sandbox: Sandbox):
    secret = fresh_sandbox.create_robot("r", secret="s")
    fresh_sandbox.configure(failMode="http503", failScope="robot", failCount=1)
    response = fresh_sandbox.robot_post("/robot/profile", robot_id="r", secret=secret)
    assert response.status_code == 503
    assert response.headers["Content-Type"].startswith("text/html")
    assert fresh_sandbox.robot_post("/robot/profile", robot_id="r", secret=secret).json()["code"] == 0


def test_fail_mode_can_target_one_api_for_a_number_of_requests(fresh_sandbox: Sandbox):
    secret = fresh_sandbox.create_robot("r", secret="s")
    fresh_sandbox.configure(failMode="error_code", failCode=249, failScope="robot", failCount=2)
    replies = [fresh_sandbox.robot_post("/robot/profile", robot_id="r", secret=secret).json() for _ in range(3)]
    assert [r["code"] for r in replies] == [249, 249, 0]
    assert fresh_sandbox.admin_post("/admin/user/get_info", {"userId": "r"}).json()["code"] == 0
    assert fresh_sandbox.configure()["failMode"] == "none"


def test_fail_mode_delay_slows_answers_down(fresh_sandbox: Sandbox):
    fresh_sandbox.configure(failMode="delay", failDelaySeconds=0.6, failScope="admin", failCount=1)
    started = time.monotonic()
    assert fresh_sandbox.admin_post("/admin/user/get_info", {"userId": "x"}).json()["code"] == 253
    assert time.monotonic() - started >= 0.6


def test_faults_leave_the_sandbox_api_alone(fresh_sandbox: Sandbox):
    fresh_sandbox.configure(failMode="http500")
    fresh_sandbox.configure(failMode="none")  # would fail if the config API itself were broken
    assert requests.get(f"{fresh_sandbox.robot_url}/sandbox/api/users", timeout=5).status_code == 200
