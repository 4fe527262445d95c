"""Users, robots, friendships, messages and inboxes survive a restart on the same database file."""

from __future__ import annotations

from pathlib import Path

from tests.support.sandbox import sandbox_process

TEXT = {"type": 1, "searchableContent": "还在吗", "persistFlag": 3}


def test_everything_survives_a_restart(tmp_path: Path):
    db = tmp_path / "kept.sqlite3"
    with sandbox_process(tmp_path, "--disable-stranger-chat", db_path=db) as first:
        first.create_user("carol", display_name="卡罗")
        first.create_user("dave")
        first.admin("/admin/friend/status", {"userId": "carol", "friendUid": "dave", "status": 0})
        secret = first.create_robot("cs_robot", secret="keep-me")
        first.robot("/robot/set_callback", {"url": "http://127.0.0.1:9/cb?k=1"}, robot_id="cs_robot", secret=secret)
        first.robot("/robot/update_profile", {"intValue": 0, "strValue": "客服"}, robot_id="cs_robot", secret=secret)
        first.admin("/admin/friend/status", {"userId": "carol", "friendUid": "cs_robot", "status": 0})
        body = {"conv": {"type": 0, "target": "carol", "line": 0}, "payload": TEXT}
        before = first.robot("/robot/message/send", body, robot_id="cs_robot", secret=secret)["messageUid"]
        inbox_before = first.inbox("carol")

    with sandbox_process(tmp_path, "--disable-stranger-chat", db_path=db) as second:
        assert second.admin("/admin/user/get_info", {"userId": "carol"})["displayName"] == "卡罗"
        robot = second.admin("/admin/user/get_robot_info", {"robotId": "cs_robot"})
        assert (robot["secret"], robot["callback"], robot["displayName"]) == (
            "keep-me",
            "http://127.0.0.1:9/cb?k=1",
            "客服",
        )
        assert second.inbox("carol") == inbox_before
        # The friendship is still there: two normal users may chat though stranger chat is disabled.
        assert second.client_send("dave", "carol", TEXT)["code"] == 0
        # New ids keep growing.
        after = second.robot("/robot/message/send", body, robot_id="cs_robot", secret="keep-me")["messageUid"]
        assert after > before
        # set_callback's state survived too: a second set_callback is still a no-op.
        second.robot("/robot/set_callback", {"url": "http://127.0.0.1:9/other"}, robot_id="cs_robot", secret="keep-me")
        assert (
            second.admin("/admin/user/get_robot_info", {"robotId": "cs_robot"})["callback"]
            == "http://127.0.0.1:9/cb?k=1"
        )
