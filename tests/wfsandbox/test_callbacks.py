"""§5: when the sandbox posts to a robot's callback, what it posts, and what it never does."""

from __future__ import annotations

import time

import requests

from tests.support.sandbox import Sandbox
from tests.wfsandbox.conftest import CallbackReceiver, RobotAccount, unique

TEXT = {"type": 1, "searchableContent": "你好", "persistFlag": 3}


def robot_with_callback(sandbox: Sandbox, receiver: CallbackReceiver) -> tuple[RobotAccount, str]:
    robot_id = unique("cb_bot")
    path = f"/wfc/callback/{robot_id}"
    secret = sandbox.create_robot(robot_id, secret=f"s-{robot_id}", callback=receiver.url(f"{path}?k=tok%2Fen"))
    return RobotAccount(robot_id, secret), path


def test_a_customer_message_is_posted_to_the_robot_exactly_as_the_reference_shows(
    sandbox: Sandbox, receiver: CallbackReceiver, customer: str
):
    robot, path = robot_with_callback(sandbox, receiver)
    uid = sandbox.client_send(customer, robot.robot_id, TEXT)["result"]["messageUid"]
    (posted,) = receiver.wait_for(1)
    assert posted.path == f"{path}?k=tok%2Fen"  # the URL exactly as stored, query and escapes included
    assert posted.headers["Content-Type"] == "application/json; charset=utf-8"
    assert not {"sign", "nonce", "timestamp", "rid"} & {name.lower() for name in posted.headers}
    body = posted.json
    assert list(body) == ["messageId", "sender", "conv", "payload", "toUsers", "timestamp"]
    assert body["messageId"] == uid > 2**53
    assert f'"messageId":{uid},' in posted.text  # a JSON integer, never a string or a float
    assert body["sender"] == customer
    assert body["conv"] == {"type": 0, "target": robot.robot_id, "line": 0}
    assert body["toUsers"] == []
    assert body["payload"]["searchableContent"] == "你好"
    assert body["payload"]["pushContent"] == ""
    assert body["payload"]["mentionedTarget"] == []
    assert "base64edData" not in body["payload"]
    assert abs(body["timestamp"] - time.time() * 1000) < 60_000


def test_a_message_posted_to_the_callback_is_not_stored_in_the_robot_inbox(
    sandbox: Sandbox, receiver: CallbackReceiver, customer: str
):
    robot, _path = robot_with_callback(sandbox, receiver)
    uid = sandbox.client_send(customer, robot.robot_id, TEXT)["result"]["messageUid"]
    receiver.wait_for(1)
    assert [m["messageUid"] for m in sandbox.inbox(robot.robot_id)] == []
    assert [m["messageUid"] for m in sandbox.inbox(customer)] == [uid]


def test_a_robot_without_a_callback_gets_messages_in_its_inbox(sandbox: Sandbox, robot: RobotAccount, customer: str):
    uid = sandbox.client_send(customer, robot.robot_id, TEXT)["result"]["messageUid"]
    assert [m["messageUid"] for m in sandbox.inbox(robot.robot_id)] == [uid]


def test_transparent_messages_never_reach_the_callback(sandbox: Sandbox, receiver: CallbackReceiver, customer: str):
    robot, _path = robot_with_callback(sandbox, receiver)
    sandbox.client_send(customer, robot.robot_id, {"type": 91, "persistFlag": 4})  # typing
    sandbox.client_send(customer, robot.robot_id, {"type": 1005, "persistFlag": 4, "content": "{}"})
    last = sandbox.client_send(customer, robot.robot_id, TEXT)["result"]["messageUid"]
    receiver.wait_for(1)
    time.sleep(0.3)
    assert [r.json["messageId"] for r in receiver.received] == [last]


def test_invisible_control_messages_with_persist_flag_0_do_reach_the_callback(
    sandbox: Sandbox, receiver: CallbackReceiver, customer: str
):
    robot, _path = robot_with_callback(sandbox, receiver)
    sandbox.client_send(customer, robot.robot_id, {"type": 1002, "persistFlag": 0, "content": "{}"})
    (posted,) = receiver.wait_for(1)
    assert (posted.json["payload"]["type"], posted.json["payload"]["persistFlag"]) == (1002, 0)


def test_a_robot_never_gets_its_own_message_back(sandbox: Sandbox, receiver: CallbackReceiver, customer: str):
    robot, _path = robot_with_callback(sandbox, receiver)
    body = {"conv": {"type": 0, "target": customer, "line": 0}, "payload": TEXT}
    own = sandbox.robot("/robot/message/send", body, robot_id=robot.robot_id, secret=robot.secret)["messageUid"]
    reply = sandbox.client_send(customer, robot.robot_id, TEXT)["result"]["messageUid"]
    receiver.wait_for(1)
    time.sleep(0.3)
    assert [r.json["messageId"] for r in receiver.received] == [reply]
    assert own in [m["messageUid"] for m in sandbox.inbox(robot.robot_id)]  # the sender's own copy


def test_a_robot_writing_to_another_robot_reaches_only_the_other_one(sandbox: Sandbox, receiver: CallbackReceiver):
    first, first_path = robot_with_callback(sandbox, receiver)
    second, second_path = robot_with_callback(sandbox, receiver)
    body = {"conv": {"type": 0, "target": second.robot_id, "line": 0}, "payload": TEXT}
    sandbox.robot("/robot/message/send", body, robot_id=first.robot_id, secret=first.secret)
    receiver.wait_for(1)
    time.sleep(0.3)
    assert len(receiver.for_path(second_path)) == 1
    assert receiver.for_path(first_path) == []
    assert receiver.for_path(second_path)[0].json["sender"] == first.robot_id


def test_an_admin_send_on_behalf_of_a_user_fires_the_callback(
    sandbox: Sandbox, receiver: CallbackReceiver, customer: str
):
    robot, _path = robot_with_callback(sandbox, receiver)
    body = {"sender": customer, "conv": {"type": 0, "target": robot.robot_id, "line": 0}, "payload": TEXT}
    uid = sandbox.admin("/admin/message/send", body)["messageUid"]
    (posted,) = receiver.wait_for(1)
    assert (posted.json["messageId"], posted.json["sender"]) == (uid, customer)


def test_the_send_call_answers_without_waiting_for_a_slow_callback(
    sandbox: Sandbox, receiver: CallbackReceiver, customer: str
):
    robot, _path = robot_with_callback(sandbox, receiver)
    receiver.delay = 2.0
    started = time.monotonic()
    assert sandbox.client_send(customer, robot.robot_id, TEXT)["code"] == 0
    assert time.monotonic() - started < 1.0
    receiver.wait_for(1)


def test_at_most_five_callbacks_are_in_flight_per_host(sandbox: Sandbox, receiver: CallbackReceiver, customer: str):
    robot, _path = robot_with_callback(sandbox, receiver)
    receiver.delay = 0.5
    uids = [sandbox.client_send(customer, robot.robot_id, TEXT)["result"]["messageUid"] for _ in range(12)]
    received = receiver.wait_for(12, timeout=15)
    assert receiver.max_in_flight == 5
    assert sorted(r.json["messageId"] for r in received) == uids


def test_a_failed_callback_is_logged_and_not_retried(sandbox: Sandbox, customer: str):
    robot_id = unique("dead_bot")
    sandbox.create_robot(robot_id, secret="s", callback="http://127.0.0.1:9/unreachable?k=secret-token")
    uid = sandbox.client_send(customer, robot_id, TEXT)["result"]["messageUid"]
    time.sleep(0.5)
    attempts = requests.get(f"{sandbox.robot_url}/sandbox/api/callbacks", timeout=5).json()["attempts"]
    mine = [a for a in attempts if a["messageId"] == uid]
    assert len(mine) == 1
    assert mine[0]["status"] is None
    assert mine[0]["error"]
    assert mine[0]["url"] == "http://127.0.0.1:9/unreachable"  # no query: it carries tokens
    assert sandbox.inbox(robot_id) == []  # lost to the robot, as on the real server
    assert "secret-token" not in sandbox.log_path.read_text()


def test_with_callback_with_sender_info_the_callback_carries_the_senders_user_object(
    fresh_sandbox: Sandbox, receiver: CallbackReceiver
):
    """robot.callback_with_sender_info (newer servers, §5.3): a customer is type 0, a robot type 1."""
    customer = unique("cust")
    fresh_sandbox.create_user(customer, display_name="顾客")
    first, _first_path = robot_with_callback(fresh_sandbox, receiver)
    second, second_path = robot_with_callback(fresh_sandbox, receiver)
    fresh_sandbox.client_send(customer, second.robot_id, TEXT)
    (plain,) = receiver.wait_for(1)
    assert "senderUserInfo" not in plain.json, "off by default, as in the 2024-03 server"

    assert fresh_sandbox.configure(callbackWithSenderInfo=True)["callbackWithSenderInfo"] is True
    fresh_sandbox.client_send(customer, second.robot_id, TEXT)
    body = {"conv": {"type": 0, "target": second.robot_id, "line": 0}, "payload": TEXT}
    fresh_sandbox.robot("/robot/message/send", body, robot_id=first.robot_id, secret=first.secret)
    posted = {r.json["sender"]: r.json for r in receiver.wait_for(3)[1:]}  # the two may arrive in either order
    from_customer, from_robot = posted[customer], posted[first.robot_id]
    assert from_customer["senderUserInfo"]["userId"] == customer
    assert (from_customer["senderUserInfo"]["type"], from_customer["senderUserInfo"]["displayName"]) == (0, "顾客")
    assert (from_robot["senderUserInfo"]["userId"], from_robot["senderUserInfo"]["type"]) == (first.robot_id, 1)
    assert len(receiver.for_path(second_path)) == 3
