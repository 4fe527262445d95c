"""§4.1: the robot API's actions and their quirks."""

from __future__ import annotations

import json
import time

import pytest

from tests.support.sandbox import Sandbox
from tests.wfsandbox.conftest import RobotAccount, unique

TWO_TO_THE_53 = 2**53


def send(sandbox: Sandbox, robot: RobotAccount, body: object):
    return sandbox.robot_post("/robot/message/send", body, robot_id=robot.robot_id, secret=robot.secret)


def text_to(target: str, text: str = "hi", **payload: object) -> dict[str, object]:
    return {
        "conv": {"type": 0, "target": target, "line": 0},
        "payload": {"type": 1, "searchableContent": text, "persistFlag": 3, **payload},
    }


def test_send_answers_a_message_uid_above_2_53_as_a_json_integer(sandbox: Sandbox, robot: RobotAccount, customer: str):
    response = send(sandbox, robot, text_to(customer))
    raw_uid = response.text.split('"messageUid":')[1].split(",")[0]
    assert raw_uid.isdigit()
    result = response.json()["result"]
    assert result["messageUid"] == int(raw_uid) > TWO_TO_THE_53 * 16
    assert abs(result["timestamp"] - time.time() * 1000) < 60_000


def test_message_uids_grow(sandbox: Sandbox, robot: RobotAccount, customer: str):
    uids = [send(sandbox, robot, text_to(customer)).json()["result"]["messageUid"] for _ in range(5)]
    assert uids == sorted(uids)
    assert len(set(uids)) == 5


def test_send_ignores_the_sender_in_the_body(sandbox: Sandbox, robot: RobotAccount, customer: str):
    send(sandbox, robot, {**text_to(customer), "sender": "someone_else"})
    assert sandbox.inbox(customer)[-1]["sender"] == robot.robot_id


def test_send_delivers_to_the_target_and_to_the_sender(sandbox: Sandbox, robot: RobotAccount, customer: str):
    uid = send(sandbox, robot, text_to(customer, "你好")).json()["result"]["messageUid"]
    for user in (customer, robot.robot_id):
        message = sandbox.inbox(user)[-1]
        assert message["messageUid"] == uid
        assert message["conv"] == {"type": 0, "target": customer, "line": 0}
        assert message["payload"]["searchableContent"] == "你好"


@pytest.mark.parametrize(
    "body",
    [
        None,
        {},
        {"payload": {"type": 1}},
        {"conv": {"type": 0, "target": "x", "line": 0}},
        {"conv": {"type": 0, "target": "", "line": 0}, "payload": {"type": 1}},
        {"conv": {"type": 7, "target": "x", "line": 0}, "payload": {"type": 1}},
        {"conv": {"type": -1, "target": "x", "line": 0}, "payload": {"type": 1}},
    ],
)
def test_send_rejects_an_invalid_message(sandbox: Sandbox, robot: RobotAccount, body: object):
    assert send(sandbox, robot, body).json() == {"code": 251, "msg": "Invalid parameter"}


@pytest.mark.parametrize("content_type", [80, 81, 100, 104, 199])
def test_a_robot_may_not_send_recalls_or_group_notifications(
    sandbox: Sandbox, robot: RobotAccount, customer: str, content_type: int
):
    body = {"conv": {"type": 0, "target": customer, "line": 0}, "payload": {"type": content_type}}
    assert send(sandbox, robot, body).json()["code"] == 251


def test_a_robot_is_in_no_group(sandbox: Sandbox, robot: RobotAccount):
    body = {"conv": {"type": 1, "target": "some_group", "line": 0}, "payload": {"type": 1, "searchableContent": "x"}}
    assert send(sandbox, robot, body).json()["code"] == 9


def test_the_payload_comes_back_with_every_string_field(sandbox: Sandbox, robot: RobotAccount, customer: str):
    send(sandbox, robot, text_to(customer, "x", extra='{"cs":{}}', base64edData="aGVsbG8="))
    payload = sandbox.inbox(customer)[-1]["payload"]
    assert payload == {
        "type": 1,
        "searchableContent": "x",
        "pushContent": "",
        "pushData": "",
        "content": "",
        "base64edData": "aGVsbG8=",
        "mediaType": 0,
        "remoteMediaUrl": "",
        "persistFlag": 3,
        "expireDuration": 0,
        "mentionedType": 0,
        "mentionedTarget": [],
        "extra": '{"cs":{}}',
    }


def test_invalid_base64_is_a_bare_500(sandbox: Sandbox, robot: RobotAccount, customer: str):
    assert send(sandbox, robot, text_to(customer, base64edData="not base64!")).status_code == 500


def test_user_info_finds_a_user_by_id_name_or_mobile(sandbox: Sandbox, robot: RobotAccount):
    user_id = unique("u")
    mobile = f"138{int(user_id[-8:], 16) % 10**8:08d}"
    sandbox.admin(
        "/admin/user/create", {"userId": user_id, "name": f"n_{user_id}", "displayName": "王五", "mobile": mobile}
    )
    for key in ({"userId": user_id}, {"name": f"n_{user_id}"}, {"mobile": mobile}):
        info = sandbox.robot("/robot/user_info", key, robot_id=robot.robot_id, secret=robot.secret)
        assert info["userId"] == user_id
        assert info["displayName"] == "王五"
        assert info["type"] == 0
        assert set(info) == {
            "userId", "name", "displayName", "portrait", "gender", "mobile", "email",
            "address", "company", "social", "extra", "type", "updateDt",
        }  # fmt: skip


def test_user_info_without_a_key_is_251_and_a_missing_user_253(sandbox: Sandbox, robot: RobotAccount):
    post = sandbox.robot_post
    assert post("/robot/user_info", {}, robot_id=robot.robot_id, secret=robot.secret).json()["code"] == 251
    missing = {"userId": unique("missing")}
    assert post("/robot/user_info", missing, robot_id=robot.robot_id, secret=robot.secret).json()["code"] == 253


def test_profile_shows_the_robot_without_its_secret(sandbox: Sandbox, robot: RobotAccount):
    result = sandbox.robot("/robot/profile", robot_id=robot.robot_id, secret=robot.secret)
    assert result["userId"] == robot.robot_id
    assert result["owner"] == robot.robot_id
    assert result["callback"] == ""
    assert result["robotExtra"] == ""
    assert "secret" not in result
    assert "type" not in result


def test_update_profile_uses_int_value_and_str_value(sandbox: Sandbox, robot: RobotAccount):
    def update(field: int, value: str) -> None:
        body = {"intValue": field, "strValue": value}
        assert sandbox.robot("/robot/update_profile", body, robot_id=robot.robot_id, secret=robot.secret) is None

    update(0, "新名字")
    update(1, "http://img.example/a.png")
    update(2, "1")
    update(3, "13999999999")  # mobile: ignored
    update(8, '{"k":1}')
    update(42, "ignored")
    profile = sandbox.robot("/robot/profile", robot_id=robot.robot_id, secret=robot.secret)
    assert (profile["displayName"], profile["portrait"], profile["gender"]) == ("新名字", "http://img.example/a.png", 1)
    assert profile["mobile"] == ""
    assert json.loads(profile["extra"]) == {"k": 1}


def test_update_profile_with_a_non_numeric_gender_is_a_bare_500(sandbox: Sandbox, robot: RobotAccount):
    body = {"intValue": 2, "strValue": "female"}
    assert (
        sandbox.robot_post("/robot/update_profile", body, robot_id=robot.robot_id, secret=robot.secret).status_code
        == 500
    )


def test_the_documented_type_value_body_does_nothing(sandbox: Sandbox, robot: RobotAccount):
    body = {"type": 0, "value": "ignored"}  # the docs' names; the server reads intValue/strValue (0 = displayName)
    response = sandbox.robot_post("/robot/update_profile", body, robot_id=robot.robot_id, secret=robot.secret)
    assert response.status_code == 500  # intValue 0 with a null strValue: the server's NullPointerException


def test_set_callback_sets_the_first_url(sandbox: Sandbox, robot: RobotAccount):
    sandbox.robot(
        "/robot/set_callback", {"url": "http://127.0.0.1:9/first"}, robot_id=robot.robot_id, secret=robot.secret
    )
    result = sandbox.robot("/robot/get_callback", robot_id=robot.robot_id, secret=robot.secret)
    assert result == {"url": "http://127.0.0.1:9/first"}


def test_a_second_set_callback_is_a_silent_no_op(sandbox: Sandbox, robot: RobotAccount):
    creds = {"robot_id": robot.robot_id, "secret": robot.secret}
    sandbox.robot("/robot/set_callback", {"url": "http://127.0.0.1:9/first"}, **creds)
    response = sandbox.robot_post(
        "/robot/set_callback", {"url": "http://127.0.0.1:9/second"}, robot_id=robot.robot_id, secret=robot.secret
    )
    assert response.json() == {"code": 0, "msg": "success"}
    assert sandbox.robot("/robot/get_callback", **creds) == {"url": "http://127.0.0.1:9/first"}


def test_delete_callback_clears_the_url_and_lets_set_callback_work_again(sandbox: Sandbox, robot: RobotAccount):
    creds = {"robot_id": robot.robot_id, "secret": robot.secret}
    sandbox.robot("/robot/set_callback", {"url": "http://127.0.0.1:9/first"}, **creds)
    assert sandbox.robot("/robot/delete_callback", **creds) is None
    assert sandbox.robot("/robot/get_callback", **creds) == {"url": ""}
    sandbox.robot("/robot/set_callback", {"url": "http://127.0.0.1:9/second"}, **creds)
    assert sandbox.robot("/robot/get_callback", **creds) == {"url": "http://127.0.0.1:9/second"}


def test_set_callback_with_an_empty_url_is_251(sandbox: Sandbox, robot: RobotAccount):
    response = sandbox.robot_post("/robot/set_callback", {"url": ""}, robot_id=robot.robot_id, secret=robot.secret)
    assert response.json() == {"code": 251, "msg": "Invalid parameter"}
