"""§2: the robot and admin pre-checks, each error code pinned, with the nested envelope of §3."""

from __future__ import annotations

import time

import pytest
import requests

from tests.support.sandbox import Sandbox, robot_headers, sandbox_process, sign, signed_headers
from tests.wfsandbox.conftest import RobotAccount, unique

TWO_HOURS_MS = 2 * 60 * 60 * 1000


def now_ms() -> int:
    return int(time.time() * 1000)


def nested(code: int, msg: str) -> dict[str, object]:
    return {"code": code, "msg": msg, "result": {"code": code, "msg": msg}}


def test_the_formula_matches_the_reference_vectors():
    assert sign("76616", "123456", "1558350862502") == "b98f9b0717f59febccf1440067a7f50d9b31bdde"
    assert sign("12345", "s3cr3t-robot", "1700000000000") == "4ceb029b190f25163b7d231f61b3af728c4912b7"


def test_a_correctly_signed_robot_call_succeeds(sandbox: Sandbox, robot: RobotAccount):
    response = sandbox.robot_post("/robot/get_callback", robot_id=robot.robot_id, secret=robot.secret)
    assert response.status_code == 200
    assert response.json() == {"code": 0, "msg": "success", "result": {"url": ""}}


@pytest.mark.parametrize("missing", ["nonce", "timestamp", "sign", "rid"])
def test_it_rejects_a_robot_call_missing_a_header(sandbox: Sandbox, robot: RobotAccount, missing: str):
    headers = robot_headers(robot.robot_id, robot.secret)
    del headers[missing]
    response = sandbox.robot_post("/robot/profile", robot_id="", secret="", headers=headers)
    assert response.status_code == 200
    assert response.json() == nested(239, "api not signed or sign parameter not completion")


def test_it_treats_an_empty_header_as_missing(sandbox: Sandbox, robot: RobotAccount):
    headers = {**robot_headers(robot.robot_id, robot.secret), "nonce": ""}
    assert sandbox.robot_post("/robot/profile", robot_id="", secret="", headers=headers).json()["code"] == 239


def test_it_accepts_capitalised_header_names(sandbox: Sandbox, robot: RobotAccount):
    headers = {name.capitalize(): value for name, value in robot_headers(robot.robot_id, robot.secret).items()}
    assert sandbox.robot_post("/robot/profile", robot_id="", secret="", headers=headers).json()["code"] == 0


@pytest.mark.parametrize("timestamp", ["soon", "1.5e12", "1_700_000_000_000", "99999999999999999999"])
def test_it_rejects_a_timestamp_that_is_not_a_java_long(sandbox: Sandbox, robot: RobotAccount, timestamp: str):
    headers = {"nonce": "1", "timestamp": timestamp, "sign": sign("1", robot.secret, timestamp), "rid": robot.robot_id}
    assert sandbox.robot_post("/robot/profile", robot_id="", secret="", headers=headers).json()["code"] == 239


def test_it_rejects_an_expired_signature(sandbox: Sandbox, robot: RobotAccount):
    headers = robot_headers(robot.robot_id, robot.secret, timestamp_ms=now_ms() - TWO_HOURS_MS - 5000)
    response = sandbox.robot_post("/robot/profile", robot_id="", secret="", headers=headers)
    assert response.json() == nested(243, "sign expired")


def test_it_accepts_a_timestamp_just_inside_two_hours_and_any_future_one(sandbox: Sandbox, robot: RobotAccount):
    for ts in (now_ms() - TWO_HOURS_MS + 60_000, now_ms() + 10 * TWO_HOURS_MS):
        headers = robot_headers(robot.robot_id, robot.secret, timestamp_ms=ts)
        assert sandbox.robot_post("/robot/profile", robot_id="", secret="", headers=headers).json()["code"] == 0


def test_it_allows_a_replayed_nonce(sandbox: Sandbox, robot: RobotAccount):
    headers = robot_headers(robot.robot_id, robot.secret)
    for _ in range(2):
        assert sandbox.robot_post("/robot/profile", robot_id="", secret="", headers=headers).json()["code"] == 0


def test_it_rejects_an_unknown_robot(sandbox: Sandbox):
    response = sandbox.robot_post("/robot/profile", robot_id=unique("nobody"), secret="whatever")
    assert response.json() == nested(253, "not exist")


def test_it_rejects_a_robot_signed_with_the_admin_secret(sandbox: Sandbox, robot: RobotAccount):
    response = sandbox.robot_post("/robot/profile", robot_id=robot.robot_id, secret=sandbox.admin_secret)
    assert response.json() == nested(244, "auth failure")


def test_it_rejects_an_uppercase_signature(sandbox: Sandbox, robot: RobotAccount):
    headers = robot_headers(robot.robot_id, robot.secret)
    headers["sign"] = headers["sign"].upper()
    assert sandbox.robot_post("/robot/profile", robot_id="", secret="", headers=headers).json()["code"] == 244


def test_it_refuses_a_robot_whose_secret_is_empty(fresh_sandbox: Sandbox):
    import sqlite3

    # A robot row inserted by SQL (as the V5 migration does) can have an empty secret; the admin API never makes one.
    fresh_sandbox.create_robot("sql_robot", secret="x")
    with sqlite3.connect(fresh_sandbox.db_path) as db:
        db.execute("UPDATE robots SET secret = '' WHERE uid = 'sql_robot'")
    response = fresh_sandbox.robot_post("/robot/profile", robot_id="sql_robot", secret="")
    assert response.json() == nested(248, "no right to operate")


def test_it_rate_limits_a_robot_before_checking_its_signature(fresh_sandbox: Sandbox):
    fresh_sandbox.configure(robotRateLimit=5)
    secret = fresh_sandbox.create_robot("busy_bot", secret="busy")
    replies = [fresh_sandbox.robot_post("/robot/profile", robot_id="busy_bot", secret=secret).json() for _ in range(7)]
    # A burst of 5; the bucket drains while the burst runs, so the 6th may slip through (as in Java).
    assert [r["code"] for r in replies[:5]] == [0] * 5
    assert replies[-1] == nested(250, "over frequency")
    # Counted per robot id before the signature is looked at: an unknown robot id is refused too.
    ghost = [fresh_sandbox.robot_post("/robot/profile", robot_id="ghost", secret="x").json()["code"] for _ in range(7)]
    assert ghost[:5] == [253] * 5
    assert ghost[-1] == 250
    # Another robot has a bucket of its own.
    assert fresh_sandbox.robot_post("/robot/profile", robot_id="other", secret="x").json()["code"] == 253


def test_the_robot_bucket_drains_at_a_tenth_of_the_limit_per_second(fresh_sandbox: Sandbox):
    fresh_sandbox.configure(robotRateLimit=20)  # drains 2 requests per second
    secret = fresh_sandbox.create_robot("drip_bot", secret="drip")

    def call() -> int:
        return int(fresh_sandbox.robot_post("/robot/profile", robot_id="drip_bot", secret=secret).json()["code"])

    assert [call() for _ in range(23)][-1] == 250
    time.sleep(1.1)  # 2.2 requests drained
    assert call() == 0


def test_a_correctly_signed_admin_call_succeeds(sandbox: Sandbox):
    response = sandbox.admin_post("/admin/user/get_info", {"userId": unique("missing")})
    assert response.json() == {"code": 253, "msg": "not exist"}


@pytest.mark.parametrize("missing", ["nonce", "timestamp", "sign"])
def test_it_rejects_an_admin_call_missing_a_header(sandbox: Sandbox, missing: str):
    headers = signed_headers(sandbox.admin_secret)
    del headers[missing]
    response = sandbox.admin_post("/admin/user/get_info", {"userId": "x"}, headers=headers)
    assert response.json() == nested(239, "api not signed or sign parameter not completion")


def test_it_rejects_an_admin_call_with_a_bad_timestamp(sandbox: Sandbox):
    headers = {"nonce": "1", "timestamp": "yesterday", "sign": sign("1", sandbox.admin_secret, "yesterday")}
    assert sandbox.admin_post("/admin/user/get_info", {"userId": "x"}, headers=headers).json()["code"] == 239


def test_it_rejects_an_expired_admin_signature(sandbox: Sandbox):
    headers = signed_headers(sandbox.admin_secret, timestamp_ms=now_ms() - TWO_HOURS_MS - 5000)
    assert sandbox.admin_post("/admin/user/get_info", {"userId": "x"}, headers=headers).json() == nested(
        243, "sign expired"
    )


def test_it_rejects_an_admin_call_signed_with_another_secret(sandbox: Sandbox):
    headers = signed_headers("123456")
    assert sandbox.admin_post("/admin/user/get_info", {"userId": "x"}, headers=headers).json() == nested(
        244, "auth failure"
    )


def test_health_needs_no_signature_and_answers_healthaction_s_shape(sandbox: Sandbox):
    response = requests.get(sandbox.admin_url + "/admin/health", timeout=5)
    assert response.status_code == 200
    body = response.json()
    assert (body["code"], body["msg"]) == (0, "success")
    [node] = body["result"]  # HealthAction: a JSON array of one node
    assert node["node"] == "1"
    assert set(node) == {"node", "cpu", "memory", "disk"}
    assert set(node["cpu"]) == {"load", "cores"}
    assert node["cpu"]["cores"] >= 1
    assert set(node["memory"]) == {"free", "max", "avail"}
    assert set(node["disk"]) == {"space", "free", "usable"}
    assert node["disk"]["space"] >= node["disk"]["free"] >= node["disk"]["usable"] >= 0


def test_health_with_a_query_string_must_be_signed(sandbox: Sandbox):
    # AdminAction skips the signature only when the raw URI is exactly "/admin/health".
    response = requests.get(sandbox.admin_url + "/admin/health?probe=1", timeout=5)
    assert response.json() == nested(239, "api not signed or sign parameter not completion")
    signed = requests.get(
        sandbox.admin_url + "/admin/health?probe=1", headers=signed_headers(sandbox.admin_secret), timeout=5
    )
    assert signed.json()["code"] == 0


def test_no_check_time_accepts_the_docs_test_vector_from_2019(tmp_path):
    headers = {"nonce": "76616", "timestamp": "1558350862502", "sign": "b98f9b0717f59febccf1440067a7f50d9b31bdde"}
    with sandbox_process(tmp_path, "--admin-no-check-time", admin_secret="123456") as relaxed:
        assert relaxed.admin_post("/admin/user/get_info", {"userId": "x"}, headers=headers).json()["code"] == 253
    with sandbox_process(tmp_path, admin_secret="123456") as strict:
        assert strict.admin_post("/admin/user/get_info", {"userId": "x"}, headers=headers).json()["code"] == 243


def test_the_admin_api_has_one_shared_limit_checked_before_everything(fresh_sandbox: Sandbox):
    fresh_sandbox.configure(adminRateLimit=3)
    codes = [fresh_sandbox.admin_post("/admin/user/get_info", {"userId": "x"}).json()["code"] for _ in range(5)]
    assert codes[:3] == [253] * 3
    assert codes[-1] == 250
    health = requests.get(fresh_sandbox.admin_url + "/admin/health", timeout=5)
    assert health.json() == nested(250, "over frequency")
    assert fresh_sandbox.admin_post("/admin/user/get_info", headers={}).json()["code"] == 250
