"""Settings that tests may change while the sandbox runs (``POST /sandbox/api/config``), and fault injection."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Literal, cast

from wfsandbox.body import JsonObject
from wfsandbox.config import Settings
from wfsandbox.ratelimit import RateLimiter

Api = Literal["robot", "admin"]
# "delay": each failing request waits ``failDelaySeconds`` on its own. "stall": the server pauses (a
# GC pause, an overloaded node): every request of the scope, until ``failDelaySeconds`` after the
# fault was set, waits for the pause to end, then all are answered in the order they came.
FailMode = Literal["none", "http500", "http503", "error_code", "delay", "stall"]
FAIL_MODES: tuple[FailMode, ...] = ("none", "http500", "http503", "error_code", "delay", "stall")
FAIL_SCOPES = ("robot", "admin", "both")
RATE_LIMIT_SECONDS = 10  # RateLimiter(10 s, N), §2.5


@dataclass
class Faults:
    """Make the robot and/or admin API fail, for every request or only the next ``remaining`` ones."""

    mode: FailMode = "none"
    scope: str = "both"
    code: int = 4
    delay_seconds: float = 0.0
    remaining: int | None = None
    stall_until: float = 0.0  # time.monotonic() at which a stall ends

    def take(self, api: Api) -> FailMode:
        """The failure for this request (``"none"`` for a normal answer); counts it down."""
        if self.mode == "none" or self.scope not in (api, "both"):
            return "none"
        if self.mode == "stall" and time.monotonic() >= self.stall_until:
            self.mode = "none"
            return "none"
        mode = self.mode
        if self.remaining is not None:
            self.remaining -= 1
            if self.remaining <= 0:
                self.mode, self.remaining = "none", None
        return mode

    def to_json(self) -> JsonObject:
        return {
            "failMode": self.mode,
            "failScope": self.scope,
            "failCode": self.code,
            "failDelaySeconds": self.delay_seconds,
            "failCount": self.remaining,
        }


@dataclass
class Runtime:
    settings: Settings
    robot_limiter: RateLimiter = field(init=False)
    admin_limiter: RateLimiter = field(init=False)
    disable_stranger_chat: bool = field(init=False)
    admin_no_check_time: bool = field(init=False)
    allow_stranger_chat_list: frozenset[str] = field(init=False)
    callback_with_sender_info: bool = field(init=False)
    faults: Faults = field(default_factory=Faults)
    _stall_over: tuple[float, asyncio.Event] | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.robot_limiter = RateLimiter(RATE_LIMIT_SECONDS, self.settings.robot_rate_limit)
        self.admin_limiter = RateLimiter(RATE_LIMIT_SECONDS, self.settings.admin_rate_limit)
        self.disable_stranger_chat = self.settings.disable_stranger_chat
        self.admin_no_check_time = self.settings.admin_no_check_time
        self.allow_stranger_chat_list = frozenset(self.settings.allow_stranger_chat_list)
        self.callback_with_sender_info = self.settings.callback_with_sender_info

    def to_json(self) -> JsonObject:
        return {
            "robotRateLimit": self.robot_limiter.limit_count,
            "adminRateLimit": self.admin_limiter.limit_count,
            "disableStrangerChat": self.disable_stranger_chat,
            "allowStrangerChatList": sorted(self.allow_stranger_chat_list),
            "adminNoCheckTime": self.admin_no_check_time,
            "callbackWithSenderInfo": self.callback_with_sender_info,
            **self.faults.to_json(),
        }

    async def stall_over(self) -> None:
        """Wait until the current stall ends; the requests that waited go on in the order they came
        (an Event wakes its waiters first come, first served)."""
        until = self.faults.stall_until
        if self._stall_over is None or self._stall_over[0] != until:
            ended = asyncio.Event()
            asyncio.get_running_loop().call_later(max(until - time.monotonic(), 0.0), ended.set)
            self._stall_over = (until, ended)
        await self._stall_over[1].wait()

    def apply(self, patch: JsonObject) -> None:
        """Apply a config patch; ``ValueError`` naming the first bad key, and then nothing is changed.

        Setting a rate limit (even to its current value) starts with empty buckets, as after a restart.
        """
        unknown = sorted(set(patch) - set(self.to_json()))
        if unknown:
            raise ValueError(f"unknown keys: {', '.join(unknown)}")
        faults = Faults(**vars(self.faults))
        robot_limit, admin_limit = self.robot_limiter.limit_count, self.admin_limiter.limit_count
        stranger, no_check = self.disable_stranger_chat, self.admin_no_check_time
        allow = self.allow_stranger_chat_list
        sender_info = self.callback_with_sender_info
        for key, value in patch.items():
            if key == "robotRateLimit":
                robot_limit = _positive_int(key, value)
            elif key == "adminRateLimit":
                admin_limit = _positive_int(key, value)
            elif key == "disableStrangerChat":
                stranger = _bool(key, value)
            elif key == "adminNoCheckTime":
                no_check = _bool(key, value)
            elif key == "callbackWithSenderInfo":
                sender_info = _bool(key, value)
            elif key == "allowStrangerChatList":
                if not isinstance(value, list) or not all(isinstance(uid, str) for uid in value):
                    raise ValueError(f"{key} must be a list of user ids")
                allow = frozenset(value)
            elif key == "failMode":
                if value not in FAIL_MODES:
                    raise ValueError(f"failMode must be one of {', '.join(FAIL_MODES)}")
                faults.mode = cast("FailMode", value)
                faults.remaining = None
            elif key == "failScope":
                if value not in FAIL_SCOPES:
                    raise ValueError(f"failScope must be one of {', '.join(FAIL_SCOPES)}")
                faults.scope = str(value)
            elif key == "failCode":
                faults.code = _int(key, value)
            elif key == "failDelaySeconds":
                if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 120:
                    raise ValueError("failDelaySeconds must be a number of seconds from 0 to 120")
                faults.delay_seconds = float(value)
        if faults.mode == "stall" and ("failMode" in patch or "failDelaySeconds" in patch):
            faults.stall_until = time.monotonic() + faults.delay_seconds
        if "failCount" in patch:
            count = patch["failCount"]
            faults.remaining = None if count is None else _positive_int("failCount", count)
        if "robotRateLimit" in patch:
            self.robot_limiter = RateLimiter(RATE_LIMIT_SECONDS, robot_limit)
        if "adminRateLimit" in patch:
            self.admin_limiter = RateLimiter(RATE_LIMIT_SECONDS, admin_limit)
        self.disable_stranger_chat, self.admin_no_check_time = stranger, no_check
        self.allow_stranger_chat_list = allow
        self.callback_with_sender_info = sender_info
        self.faults = faults


def _int(key: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{key} must be an integer")
    return value


def _positive_int(key: str, value: object) -> int:
    number = _int(key, value)
    if number <= 0:
        raise ValueError(f"{key} must be a positive integer")
    return number


def _bool(key: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"{key} must be true or false")
    return value
