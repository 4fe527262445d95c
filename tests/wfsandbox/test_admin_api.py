"""§6: the admin API's actions: robot and user upserts, lookups, destroy, partial update, friendships."""

from __future__ import annotations

import pytest

from tests.support.sandbox import Sandbox
from tests.wfsandbox.conftest import unique


def test_robot_create_returns_the_id_and_secret_it_was_given(sandbox: Sandbox):
    robot_id = unique("bot")
    result = sandbox.admin("/admin/robot/create", {"userId": robot_id, "name": robot_id, "secret": "given"})
    assert result == {"userId": robot_id, "secret": "given"}


def test_robot_create_generates_an_id_and_a_secret(sandbox: Sandbox):
    result = sandbox.admin("/admin/robot/create", {"name": unique("named")})
    assert result["userId"]
    assert len(result["secret"]) >= 16
    info = sandbox.admin("/admin/user/get_robot_info", {"robotId": result["userId"]})
    assert info["owner"] == result["userId"]  # an empty owner is the robot itself


def test_robot_create_without_a_name_is_251(sandbox: Sandbox):
    assert sandbox.admin_post("/admin/robot/create", {"userId": unique("bot")}).json()["code"] == 251
    assert sandbox.admin_post("/admin/robot/create", None).json()["code"] == 251


def test_robot_create_is_an_upsert_that_regenerates_an_empty_secret_and_clears_the_callback(sandbox: Sandbox):
    robot_id = unique("bot")
    first = {"userId": robot_id, "name": robot_id, "secret": "s1", "callback": "http://127.0.0.1:9/cb", "owner": "boss"}
    sandbox.admin("/admin/robot/create", first)
    sandbox.robot("/robot/set_callback", {"url": "http://127.0.0.1:9/cb"}, robot_id=robot_id, secret="s1")

    result = sandbox.admin("/admin/robot/create", {"userId": robot_id, "name": robot_id, "displayName": "改名"})
    assert result["userId"] == robot_id
    assert result["secret"] not in ("", "s1")
    info = sandbox.admin("/admin/user/get_robot_info", {"robotId": robot_id})
    assert info["secret"] == result["secret"]
    assert info["callback"] == ""
    assert info["owner"] == robot_id
    assert info["displayName"] == "改名"
    # The old secret no longer signs; the new one does.
    assert sandbox.robot_post("/robot/profile", robot_id=robot_id, secret="s1").json()["code"] == 244
    assert sandbox.robot_post("/robot/profile", robot_id=robot_id, secret=result["secret"]).json()["code"] == 0


def test_robot_create_resets_the_state_so_set_callback_works_again(sandbox: Sandbox):
    robot_id = unique("bot")
    creds = {"robot_id": robot_id, "secret": "s"}
    sandbox.create_robot(robot_id, secret="s")
    sandbox.robot("/robot/set_callback", {"url": "http://127.0.0.1:9/one"}, **creds)
    sandbox.create_robot(robot_id, secret="s", callback="http://127.0.0.1:9/two")
    assert sandbox.robot("/robot/get_callback", **creds) == {"url": "http://127.0.0.1:9/two"}
    sandbox.robot("/robot/set_callback", {"url": "http://127.0.0.1:9/three"}, **creds)  # state was 0 again
    assert sandbox.robot("/robot/get_callback", **creds) == {"url": "http://127.0.0.1:9/three"}


def test_a_name_owned_by_another_user_is_code_4(sandbox: Sandbox):
    name = unique("taken")
    sandbox.admin("/admin/user/create", {"userId": unique("a"), "name": name})
    response = sandbox.admin_post("/admin/robot/create", {"userId": unique("b"), "name": name})
    assert response.json()["code"] == 4
    assert response.json()["msg"]
    assert "result" not in response.json()
    assert sandbox.admin_post("/admin/user/create", {"userId": unique("c"), "name": name}).json()["code"] == 4


def test_get_robot_info_includes_the_secret_and_is_253_for_a_plain_user(sandbox: Sandbox):
    robot_id, user_id = unique("bot"), unique("u")
    sandbox.create_robot(robot_id, secret="shh", callback="http://127.0.0.1:9/cb?k=1")
    sandbox.create_user(user_id)
    info = sandbox.admin("/admin/user/get_robot_info", {"robotId": robot_id})
    assert (info["secret"], info["callback"], info["userId"]) == ("shh", "http://127.0.0.1:9/cb?k=1", robot_id)
    assert sandbox.admin_post("/admin/user/get_robot_info", {"robotId": user_id}).json()["code"] == 253
    assert sandbox.admin_post("/admin/user/get_robot_info", {}).json()["code"] == 251


def test_user_create_is_an_upsert(sandbox: Sandbox):
    user_id = unique("u")
    assert sandbox.admin("/admin/user/create", {"userId": user_id, "name": user_id, "displayName": "甲"}) == {
        "userId": user_id,
        "name": user_id,
    }
    sandbox.admin("/admin/user/create", {"userId": user_id, "name": user_id, "displayName": "乙", "email": "b@x"})
    info = sandbox.admin("/admin/user/get_info", {"userId": user_id})
    assert (info["displayName"], info["email"], info["type"]) == ("乙", "b@x", 0)


def test_user_create_uses_the_name_for_an_empty_display_name(sandbox: Sandbox):
    user_id = unique("u")
    sandbox.admin("/admin/user/create", {"userId": user_id, "name": f"name_{user_id}", "displayName": ""})
    assert sandbox.admin("/admin/user/get_info", {"userId": user_id})["displayName"] == f"name_{user_id}"


def test_user_create_generates_an_id(sandbox: Sandbox):
    result = sandbox.admin("/admin/user/create", {"name": unique("anon")})
    assert result["userId"]
    assert sandbox.admin("/admin/user/get_info", {"userId": result["userId"]})["name"] == result["name"]


@pytest.mark.parametrize(("user_type", "code"), [(0, 0), (3, 0), (100, 0), (1, 251), (2, 251), (4, 251)])
def test_user_create_accepts_only_normal_admin_and_super_admin_types(sandbox: Sandbox, user_type: int, code: int):
    body = {"userId": unique("u"), "name": unique("n"), "type": user_type}
    assert sandbox.admin_post("/admin/user/create", body).json()["code"] == code


def test_get_info_by_name_and_mobile(sandbox: Sandbox):
    user_id = unique("u")
    sandbox.admin("/admin/user/create", {"userId": user_id, "name": f"n_{user_id}", "mobile": f"m_{user_id}"})
    assert sandbox.admin("/admin/user/get_info", {"name": f"n_{user_id}"})["userId"] == user_id
    assert sandbox.admin("/admin/user/get_info", {"mobile": f"m_{user_id}"})["userId"] == user_id
    assert sandbox.admin_post("/admin/user/get_info", {}).json()["code"] == 251


def test_destroy_removes_users_and_robots(sandbox: Sandbox):
    robot_id, user_id = unique("bot"), unique("u")
    sandbox.create_robot(robot_id, secret="s")
    sandbox.create_user(user_id)
    for uid in (robot_id, user_id):
        assert sandbox.admin("/admin/user/destroy", {"userId": uid}) is None
        assert sandbox.admin_post("/admin/user/get_info", {"userId": uid}).json()["code"] == 253
    assert sandbox.robot_post("/robot/profile", robot_id=robot_id, secret="s").json()["code"] == 253
    assert sandbox.admin("/admin/user/destroy", {"userId": unique("never")}) is None
    assert sandbox.admin_post("/admin/user/destroy", {}).json()["code"] == 251


def test_destroy_frees_the_name(sandbox: Sandbox):
    name = unique("reused")
    sandbox.admin("/admin/user/create", {"userId": unique("a"), "name": name})
    sandbox.admin("/admin/user/destroy", {"userId": sandbox.admin("/admin/user/get_info", {"name": name})["userId"]})
    sandbox.admin("/admin/user/create", {"userId": unique("b"), "name": name})


def test_update_changes_only_the_flagged_fields(sandbox: Sandbox):
    user_id = unique("u")
    sandbox.admin("/admin/user/create", {"userId": user_id, "name": user_id, "displayName": "旧", "email": "old@x"})
    info = {"userId": user_id, "displayName": "新", "email": "new@x", "portrait": "http://p/x.png", "gender": 2}
    assert sandbox.admin("/admin/user/update", {"flag": 0x1 | 0x2 | 0x4, "userInfo": info}) is None
    after = sandbox.admin("/admin/user/get_info", {"userId": user_id})
    assert (after["displayName"], after["portrait"], after["gender"], after["email"]) == (
        "新",
        "http://p/x.png",
        2,
        "old@x",
    )


def test_update_works_for_a_robot_without_touching_the_robot_record(sandbox: Sandbox):
    robot_id = unique("bot")
    sandbox.create_robot(robot_id, secret="keep", callback="http://127.0.0.1:9/cb")
    sandbox.admin("/admin/user/update", {"flag": 0x1, "userInfo": {"userId": robot_id, "displayName": "影子"}})
    info = sandbox.admin("/admin/user/get_robot_info", {"robotId": robot_id})
    assert (info["displayName"], info["secret"], info["callback"]) == ("影子", "keep", "http://127.0.0.1:9/cb")


def test_update_rejects_a_missing_flag_or_user(sandbox: Sandbox):
    assert sandbox.admin_post("/admin/user/update", {"flag": 0, "userInfo": {"userId": "x"}}).json()["code"] == 251
    assert sandbox.admin_post("/admin/user/update", {"flag": 1}).json()["code"] == 251
    missing = {"flag": 1, "userInfo": {"userId": unique("missing"), "displayName": "x"}}
    assert sandbox.admin_post("/admin/user/update", missing).json()["code"] == 253


def test_friend_status_needs_both_ids(sandbox: Sandbox):
    assert sandbox.admin("/admin/friend/status", {"userId": unique("a"), "friendUid": unique("b"), "status": 0}) is None
    assert sandbox.admin_post("/admin/friend/status", {"userId": "a"}).json()["code"] == 251


def test_admin_send_needs_a_sender(sandbox: Sandbox):
    body = {"conv": {"type": 0, "target": "x", "line": 0}, "payload": {"type": 1}}
    assert sandbox.admin_post("/admin/message/send", body).json()["code"] == 251


def test_admin_send_may_send_any_content_type(sandbox: Sandbox):
    user_id = unique("u")
    sandbox.create_user(user_id)
    body = {"sender": "admin", "conv": {"type": 0, "target": user_id, "line": 0}, "payload": {"type": 104}}
    assert isinstance(sandbox.admin("/admin/message/send", body)["messageUid"], int)


def test_admin_send_to_a_group_that_does_not_exist_is_253(sandbox: Sandbox):
    body = {"sender": "admin", "conv": {"type": 1, "target": "no_group", "line": 0}, "payload": {"type": 1}}
    assert sandbox.admin_post("/admin/message/send", body).json()["code"] == 253
