"""What the CS server may ask the App Server to do: robots it owns, and nothing about other users."""

from __future__ import annotations

import re

_SHADOW = re.compile(r"^(?:[A-Za-z0-9_\-]{1,40}_csshadow|cs_shadow_[0-9a-f]{24})$")


def may_manage_robot(robot_id: str, *, cs_robot_id: str) -> bool:
    return robot_id == cs_robot_id or bool(_SHADOW.match(robot_id))
