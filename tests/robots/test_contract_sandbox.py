"""Contract tests: the project's own protocol clients against the sandbox IM server."""

from __future__ import annotations

import uuid

import pytest
import requests

from robots.wfprotocol import (
    AdminClient,
    Conversation,
    CsControl,
    ProfileField,
    RobotClient,
    WfcAuthError,
    WfcHttpError,
    WfcNotFound,
    WfcRateLimited,
    control_payload,
    signed_headers,
    text_payload,
)
from tests.support.sandbox import Sandbox


def _uid(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def admin(sandbox: Sandbox) -> AdminClient:
    return AdminClient(sandbox.admin_url, sandbox.admin_secret)


@pytest.fixture
def robot(admin: AdminClient, sandbox: Sandbox) -> RobotClient:
    robot_id = _uid("bot")
    _, secret = admin.create_robot(
        user_id=robot_id, name=robot_id, display_name="机器人", secret="sekret-1", callback=""
    )
    return RobotClient(sandbox.robot_url, robot_id, secret)


def test_admin_health_users_and_robots(admin: AdminClient) -> None:
    assert admin.health() is True
    uid = _uid("user")
    assert admin.create_user(user_id=uid, name=uid, display_name="张三") == (uid, uid)
    info = admin.get_user_info(user_id=uid)
    assert (info.user_id, info.display_name, info.type) == (uid, "张三", 0)
    robot_id = _uid("bot")
    assert admin.create_robot(
        user_id=robot_id, name=robot_id, display_name="r", secret="s1", callback="http://x/cb"
    ) == (
        robot_id,
        "s1",
    )
    robot = admin.get_robot_info(robot_id=robot_id)
    assert (robot.secret, robot.callback, robot.display_name) == ("s1", "http://x/cb", "r")
    admin.destroy_user(user_id=uid)
    with pytest.raises(WfcNotFound):
        admin.get_user_info(user_id=uid)


def test_a_robot_sends_and_the_user_receives_it_with_a_64_bit_id(
    admin: AdminClient, robot: RobotClient, sandbox: Sandbox
) -> None:
    uid = _uid("user")
    admin.create_user(user_id=uid, name=uid)
    result = robot.send_message(Conversation(type=0, target=uid), text_payload("你好"))
    assert result.message_uid > 2**53
    inbox = requests.get(f"{sandbox.robot_url}/sandbox/api/messages", params={"user": uid}, timeout=5).json()
    assert inbox[-1]["messageUid"] == result.message_uid
    assert inbox[-1]["payload"]["searchableContent"] == "你好"
    control = robot.send_message(
        Conversation(type=0, target=uid), control_payload(CsControl.QUEUE_POSITION, {"position": 2})
    )
    assert control.message_uid > result.message_uid


def test_profile_user_info_and_update_profile(admin: AdminClient, robot: RobotClient) -> None:
    robot.update_profile(ProfileField.DISPLAY_NAME, "新名字")
    assert robot.profile().display_name == "新名字"
    uid = _uid("user")
    admin.create_user(user_id=uid, name=uid, display_name="李四")
    assert robot.user_info(user_id=uid).display_name == "李四"
    with pytest.raises(WfcNotFound):
        robot.user_info(user_id=_uid("missing"))


def test_the_set_callback_quirk_and_how_to_change_a_callback(robot: RobotClient) -> None:
    robot.set_callback("http://first/cb")
    assert robot.get_callback() == "http://first/cb"
    robot.set_callback("http://second/cb")  # answered with success, but a no-op (§4.1)
    assert robot.get_callback() == "http://first/cb"
    robot.delete_callback()
    robot.set_callback("http://second/cb")
    assert robot.get_callback() == "http://second/cb"


def test_robot_create_is_an_upsert_that_regenerates_an_omitted_secret(admin: AdminClient, sandbox: Sandbox) -> None:
    robot_id = _uid("bot")
    admin.create_robot(user_id=robot_id, name=robot_id, display_name="r", secret="keep-me", callback="http://x/cb")
    raw = requests.post(  # what a careless client does: no secret, no callback
        f"{sandbox.admin_url}/admin/robot/create",
        json={"userId": robot_id, "name": robot_id, "displayName": "r"},
        headers=signed_headers(sandbox.admin_secret),
        timeout=5,
    ).json()
    assert raw["result"]["secret"] != "keep-me"
    info = admin.get_robot_info(robot_id=robot_id)
    assert info.callback == ""


def test_errors_are_typed(admin: AdminClient, robot: RobotClient, sandbox: Sandbox) -> None:
    with pytest.raises(WfcAuthError):
        RobotClient(sandbox.robot_url, robot.robot_id, "wrong-secret").profile()
    with pytest.raises(WfcNotFound):
        RobotClient(sandbox.robot_url, _uid("ghost"), "x").profile()
    with pytest.raises(WfcAuthError):
        AdminClient(sandbox.admin_url, "wrong").get_user_info(user_id="x")
    with pytest.raises(WfcHttpError) as wrong_port:
        AdminClient(sandbox.robot_url, sandbox.admin_secret).get_user_info(user_id="x")
    assert wrong_port.value.http_status == 500


def test_the_rate_limit_is_a_retryable_error(fresh_sandbox: Sandbox) -> None:
    admin = AdminClient(fresh_sandbox.admin_url, fresh_sandbox.admin_secret)
    fresh_sandbox.configure(robotRateLimit=3)
    _, secret = admin.create_robot(user_id="bot", name="bot", display_name="r", secret="s", callback="")
    client = RobotClient(fresh_sandbox.robot_url, "bot", secret)
    granted, refused = 0, None
    for _ in range(10):
        try:
            client.profile()
            granted += 1
        except WfcRateLimited as exc:
            refused = exc
            break
    assert refused is not None
    assert refused.retryable
    assert 3 <= granted <= 4, "a burst of the bucket's size (the leaky bucket may drain one in the meantime)"


def test_robot_create_replaces_the_profile_and_the_keeping_upsert_does_not(admin: AdminClient) -> None:
    # CreateRobotAction → InputCreateRobot.toUser → DatabaseStore.updateUser: every field is written.
    robot_id = _uid("bot")
    admin.create_robot(
        user_id=robot_id, name=robot_id, display_name="小助手", secret="s1", callback="", portrait="p.png", extra="e"
    )
    admin.create_robot(user_id=robot_id, name=robot_id, display_name="小助手", secret="s1", callback="http://x/1")
    wiped = admin.get_robot_info(robot_id=robot_id)
    assert (wiped.portrait, wiped.extra) == ("", "")

    admin.create_robot(
        user_id=robot_id, name=robot_id, display_name="小助手", secret="s1", callback="", portrait="p.png", extra="e"
    )
    upsert = admin.upsert_robot_keeping_profile(
        user_id=robot_id, secret="", callback="http://x/2", name="ignored", display_name="ignored"
    )
    assert (upsert.secret, upsert.created) == ("s1", False)
    kept = admin.get_robot_info(robot_id=robot_id)
    assert (kept.name, kept.display_name, kept.portrait, kept.extra, kept.callback) == (
        robot_id,
        "小助手",
        "p.png",
        "e",
        "http://x/2",
    )

    new_id = _uid("bot")
    created = admin.upsert_robot_keeping_profile(
        user_id=new_id, secret="", callback="http://x/3", name=new_id, display_name="在线客服"
    )
    assert created.created
    assert created.secret, "the server made a secret"
    assert admin.get_robot_info(robot_id=new_id).display_name == "在线客服"
