"""Wildfire error codes (§3) with the exact ``msg`` strings of the server's ``ErrorCode`` enum."""

from __future__ import annotations

from enum import IntEnum


class ErrorCode(IntEnum):
    SUCCESS = 0
    INVALID_DATA = 2
    SERVER_ERROR = 4
    USER_FORBIDDEN = 8
    NOT_IN_GROUP = 9
    NOT_IN_CHATROOM = 20
    NOT_IN_CHANNEL = 21
    API_NOT_SIGNED = 239
    SIGN_EXPIRED = 243
    AUTH_FAILURE = 244
    NOT_RIGHT = 248
    OVER_FREQUENCY = 250
    INVALID_PARAMETER = 251
    NOT_EXIST = 253
    NOT_IMPLEMENT = 254

    @property
    def msg(self) -> str:
        return _MESSAGES[self]


_MESSAGES: dict[ErrorCode, str] = {
    ErrorCode.SUCCESS: "success",
    ErrorCode.INVALID_DATA: "invalid data",
    ErrorCode.SERVER_ERROR: "server error",
    ErrorCode.USER_FORBIDDEN: "user forbidden",
    ErrorCode.NOT_IN_GROUP: "not in group",
    ErrorCode.NOT_IN_CHATROOM: "not in chatroom",
    ErrorCode.NOT_IN_CHANNEL: "not in channel",
    ErrorCode.API_NOT_SIGNED: "api not signed or sign parameter not completion",
    ErrorCode.SIGN_EXPIRED: "sign expired",
    ErrorCode.AUTH_FAILURE: "auth failure",
    ErrorCode.NOT_RIGHT: "no right to operate",
    ErrorCode.OVER_FREQUENCY: "over frequency",
    ErrorCode.INVALID_PARAMETER: "Invalid parameter",
    ErrorCode.NOT_EXIST: "not exist",
    ErrorCode.NOT_IMPLEMENT: "not implement",
}


class ApiError(Exception):
    """An action's failure, answered as HTTP 200 with ``{"code", "msg"}`` and no ``result``."""

    def __init__(self, code: ErrorCode, msg: str | None = None) -> None:
        super().__init__(msg or code.msg)
        self.code = code
        self.msg = msg or code.msg


class BadRequestBody(Exception):
    """A body the server's JSON binding (Gson) would throw on; the server answers HTTP 500 without an envelope."""
