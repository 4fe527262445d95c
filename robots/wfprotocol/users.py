"""Users and robots as the APIs return them (§7.6, §4.1 ``/robot/profile``, §6 ``get_robot_info``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum
from typing import TypedDict

from robots.wfprotocol._wire import WireObject


class UserType(IntEnum):
    """§7.6."""

    NORMAL = 0
    ROBOT = 1
    DEVICE = 2
    ADMIN = 3
    SUPER_ADMIN = 100


class ProfileField(IntEnum):
    """§4.1 ``/robot/update_profile`` ``intValue``. 3 (mobile) is ignored by the server, so absent."""

    DISPLAY_NAME = 0
    PORTRAIT = 1
    GENDER = 2
    EMAIL = 4
    ADDRESS = 5
    COMPANY = 6
    SOCIAL = 7
    EXTRA = 8


class _UserFields(TypedDict):
    user_id: str
    name: str
    display_name: str
    portrait: str
    type: int
    extra: str
    gender: int
    mobile: str
    email: str
    address: str
    company: str
    social: str
    update_dt: int


def _user_fields(wire: WireObject) -> _UserFields:
    return {
        "user_id": wire.req_str("userId", non_empty=True),
        "name": wire.req_str("name"),
        "display_name": wire.opt_str("displayName"),
        "portrait": wire.opt_str("portrait"),
        "type": wire.opt_int("type"),
        "extra": wire.opt_str("extra"),
        "gender": wire.opt_int("gender"),
        "mobile": wire.opt_str("mobile"),
        "email": wire.opt_str("email"),
        "address": wire.opt_str("address"),
        "company": wire.opt_str("company"),
        "social": wire.opt_str("social"),
        "update_dt": wire.opt_int("updateDt", int64=True),
    }


@dataclass(frozen=True)
class UserInfo:
    """§7.6 ``InputOutputUserInfo``; ``type`` is a ``UserType`` value."""

    user_id: str
    name: str
    display_name: str = ""
    portrait: str = ""
    type: int = 0
    extra: str = ""
    gender: int = 0
    mobile: str = ""
    email: str = ""
    address: str = ""
    company: str = ""
    social: str = ""
    update_dt: int = 0

    @classmethod
    def from_wire(cls, value: object) -> UserInfo:
        return UserInfo(**_user_fields(WireObject(value)))


@dataclass(frozen=True)
class RobotInfo(UserInfo):
    """The user fields plus the robot's own (§6 ``/admin/user/get_robot_info``).

    ``secret`` is "" from ``/robot/profile``, which does not return it (§4.1), and is kept out
    of ``repr`` so a logged RobotInfo does not leak it.
    """

    owner: str = ""
    secret: str = field(default="", repr=False)
    callback: str = ""
    robot_extra: str = ""

    @classmethod
    def from_wire(cls, value: object) -> RobotInfo:
        wire = WireObject(value)
        return RobotInfo(
            **_user_fields(wire),
            owner=wire.opt_str("owner"),
            secret=wire.opt_str("secret"),
            callback=wire.opt_str("callback"),
            robot_extra=wire.opt_str("robotExtra"),
        )


@dataclass(frozen=True)
class RobotUpsert:
    """What ``AdminClient.upsert_robot_keeping_profile`` did: the robot's id and (current) secret,
    and whether the robot was new. ``secret`` is kept out of ``repr``."""

    user_id: str
    secret: str = field(repr=False)
    created: bool
