"""What the CS server may ask the App Server to do: robots it owns, and nothing about other users."""

from __future__ import annotations

from robots.robot_ids import may_be_shadow_robot_id


def may_manage_robot(robot_id: str, *, cs_robot_id: str) -> bool:
    return robot_id == cs_robot_id or may_be_shadow_robot_id(robot_id)
