"""``message.disable_stranger_chat`` (§4.1): private messages between non-friends are refused with 248."""

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
        running.create_robot("cs_robot", secret="s")
        running.create_robot("FireRobot", secret="f")
        yield running


def robot_send(sandbox: Sandbox, robot_id: str, secret: str, target: str) -> int:
    body = {"conv": {"type": 0, "target": target, "line": 0}, "payload": TEXT}
    return int(sandbox.robot_post("/robot/message/send", body, robot_id=robot_id, secret=secret).json()["code"])


def test_a_robot_may_not_write_to_a_user_who_is_not_its_friend(strict: Sandbox):
    assert robot_send(strict, "cs_robot", "s", "alice") == 248
    assert strict.inbox("alice") == []


def test_friends_may_write_to_each_other(strict: Sandbox):
    strict.admin("/admin/friend/status", {"userId": "alice", "friendUid": "cs_robot", "status": 0})
    assert robot_send(strict, "cs_robot", "s", "alice") == 0
    assert strict.client_send("alice", "cs_robot", TEXT)["code"] == 0


def test_unfriending_closes_the_chat_again(strict: Sandbox):
    strict.admin("/admin/friend/status", {"userId": "alice", "friendUid": "cs_robot", "status": 0})
    strict.admin("/admin/friend/status", {"userId": "alice", "friendUid": "cs_robot", "status": 1})
    assert robot_send(strict, "cs_robot", "s", "alice") == 248


def test_a_client_is_held_to_the_same_rule(strict: Sandbox):
    assert strict.client_send("alice", "cs_robot", TEXT)["code"] == 248


def test_the_allow_list_may_chat_with_anyone(strict: Sandbox):
    assert robot_send(strict, "FireRobot", "f", "alice") == 0
    assert strict.client_send("alice", "FireRobot", TEXT)["code"] == 0


def test_the_admin_api_skips_the_check(strict: Sandbox):
    body = {"sender": "cs_robot", "conv": {"type": 0, "target": "alice", "line": 0}, "payload": TEXT}
    assert strict.admin_post("/admin/message/send", body).json()["code"] == 0


def test_it_is_off_by_default_and_can_be_switched_at_run_time(fresh_sandbox: Sandbox):
    fresh_sandbox.create_user("bob")
    fresh_sandbox.create_robot("cs_robot", secret="s")
    assert robot_send(fresh_sandbox, "cs_robot", "s", "bob") == 0
    fresh_sandbox.configure(disableStrangerChat=True)
    assert robot_send(fresh_sandbox, "cs_robot", "s", "bob") == 248
