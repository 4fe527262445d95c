"""``message.disable_stranger_chat``, as ``MemoryMessagesStore.isAllowUserMessage`` (im-server c4421fc9)
decides it: two normal users who are not friends are refused with 248; a robot, a device or an admin on
either side, or a user on ``message.allow_stranger_chat_list``, may always chat."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.sandbox import Sandbox, sandbox_process

TEXT = {"type": 1, "searchableContent": "hi", "persistFlag": 3}


@pytest.fixture
def strict(tmp_path: Path) -> Iterator[Sandbox]:
    with sandbox_process(tmp_path, "--disable-stranger-chat") as running:
        running.create_user("alice")
        running.create_user("bob")
        running.create_robot("cs_robot", secret="s")
        yield running


def robot_send(sandbox: Sandbox, robot_id: str, secret: str, target: str) -> int:
    body = {"conv": {"type": 0, "target": target, "line": 0}, "payload": TEXT}
    return int(sandbox.robot_post("/robot/message/send", body, robot_id=robot_id, secret=secret).json()["code"])


def test_two_normal_users_who_are_not_friends_may_not_chat(strict: Sandbox):
    assert strict.client_send("alice", "bob", TEXT)["code"] == 248
    assert strict.inbox("bob") == []


def test_a_robot_may_write_to_a_user_who_is_not_its_friend(strict: Sandbox):
    # "在禁止私聊时，允许机器人，物联网设备及管理员进行私聊": the sender is not a normal user.
    assert robot_send(strict, "cs_robot", "s", "alice") == 0
    assert [m["payload"]["searchableContent"] for m in strict.inbox("alice")] == ["hi"]


def test_a_user_may_write_to_a_robot_that_is_not_their_friend(strict: Sandbox):
    assert strict.client_send("alice", "cs_robot", TEXT)["code"] == 0


def test_an_admin_user_may_write_to_strangers(strict: Sandbox):
    strict.admin("/admin/user/create", {"userId": "ops", "name": "ops", "type": 3})
    assert strict.client_send("ops", "alice", TEXT)["code"] == 0


def test_friends_may_write_to_each_other(strict: Sandbox):
    strict.admin("/admin/friend/status", {"userId": "alice", "friendUid": "bob", "status": 0})
    assert strict.client_send("bob", "alice", TEXT)["code"] == 0
    assert strict.client_send("alice", "bob", TEXT)["code"] == 0


def test_unfriending_closes_the_chat_again(strict: Sandbox):
    strict.admin("/admin/friend/status", {"userId": "alice", "friendUid": "bob", "status": 0})
    strict.admin("/admin/friend/status", {"userId": "alice", "friendUid": "bob", "status": 1})
    assert strict.client_send("bob", "alice", TEXT)["code"] == 248


def test_the_allow_list_may_chat_with_anyone(strict: Sandbox):
    strict.create_user("wfc_file_transfer")
    assert strict.client_send("alice", "wfc_file_transfer", TEXT)["code"] == 0
    assert strict.client_send("wfc_file_transfer", "bob", TEXT)["code"] == 0


def test_the_admin_api_skips_the_check(strict: Sandbox):
    body = {"sender": "bob", "conv": {"type": 0, "target": "alice", "line": 0}, "payload": TEXT}
    assert strict.admin_post("/admin/message/send", body).json()["code"] == 0


def test_it_is_off_by_default_and_can_be_switched_at_run_time(fresh_sandbox: Sandbox):
    fresh_sandbox.create_user("carol")
    fresh_sandbox.create_user("dave")
    assert fresh_sandbox.client_send("carol", "dave", TEXT)["code"] == 0
    fresh_sandbox.configure(disableStrangerChat=True)
    assert fresh_sandbox.client_send("carol", "dave", TEXT)["code"] == 248
