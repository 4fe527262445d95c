"""Request signing and the pre-checks of the robot and admin APIs, in the server's order (§2)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from wfsandbox.errors import ErrorCode
from wfsandbox.ratelimit import RateLimiter

SIGN_LIFETIME_MS = 2 * 60 * 60 * 1000
_JAVA_LONG = re.compile(r"[+-]?[0-9]+")
_LONG_MIN, _LONG_MAX = -(2**63), 2**63 - 1


def sign(nonce: str, secret: str, timestamp: str) -> str:
    """§2.1: lowercase hex SHA-1 of ``nonce|secret|timestamp``."""
    return hashlib.sha1(f"{nonce}|{secret}|{timestamp}".encode()).hexdigest()  # noqa: S324 - the protocol's choice


@dataclass(frozen=True)
class SignHeaders:
    nonce: str
    timestamp: str
    sign: str


def sign_headers(headers: Mapping[str, str]) -> SignHeaders | None:
    """The three signing headers, or None if one is missing or empty (HTTP header names are case-insensitive)."""
    nonce, timestamp, signature = headers.get("nonce", ""), headers.get("timestamp", ""), headers.get("sign", "")
    if not (nonce and timestamp and signature):
        return None
    return SignHeaders(nonce, timestamp, signature)


def parse_java_long(text: str) -> int | None:
    """``Long.parseLong``: an optional sign and decimal digits within 64 bits; no spaces or underscores."""
    if not _JAVA_LONG.fullmatch(text):
        return None
    value = int(text)
    return value if _LONG_MIN <= value <= _LONG_MAX else None


def check_robot(
    headers: Mapping[str, str],
    *,
    limiter: RateLimiter,
    robot_secret: Callable[[str], str | None],
    now_ms: int,
) -> tuple[ErrorCode, str]:
    """§2.3 robot pre-check. Returns the code and the robot id (``rid``) it is about.

    ``robot_secret`` gives a robot's secret, or None when no robot has that id.
    1. nonce/timestamp/sign/rid missing → 239; 2. the per-rid limiter refuses → 250;
    3. timestamp not a long → 239; 4. older than 2 h → 243 (no lower bound); 5. no robot → 253;
    6. empty secret → 248; 7. mismatch → 244.
    """
    signed = sign_headers(headers)
    rid = headers.get("rid", "")
    if signed is None or not rid:
        return ErrorCode.API_NOT_SIGNED, rid
    if not limiter.is_granted(rid):
        return ErrorCode.OVER_FREQUENCY, rid
    ts = parse_java_long(signed.timestamp)
    if ts is None:
        return ErrorCode.API_NOT_SIGNED, rid
    if now_ms - ts > SIGN_LIFETIME_MS:
        return ErrorCode.SIGN_EXPIRED, rid
    secret = robot_secret(rid)
    if secret is None:
        return ErrorCode.NOT_EXIST, rid
    if not secret:
        return ErrorCode.NOT_RIGHT, rid
    if sign(signed.nonce, secret, signed.timestamp) != signed.sign:
        return ErrorCode.AUTH_FAILURE, rid
    return ErrorCode.SUCCESS, rid


def check_admin(
    headers: Mapping[str, str],
    *,
    limiter: RateLimiter,
    secret: str,
    no_check_time: bool,
    unsigned: bool,
    now_ms: int,
) -> ErrorCode:
    """§2.3 admin pre-check: 1. the one global limiter → 250; 2. ``unsigned`` (``/admin/health``) passes;
    3. header missing → 239; 4. bad timestamp → 239; 5. older than 2 h → 243 unless ``no_check_time``;
    6. mismatch → 244.
    """
    if not limiter.is_granted("admin"):
        return ErrorCode.OVER_FREQUENCY
    if unsigned:
        return ErrorCode.SUCCESS
    signed = sign_headers(headers)
    if signed is None:
        return ErrorCode.API_NOT_SIGNED
    ts = parse_java_long(signed.timestamp)
    if ts is None:
        return ErrorCode.API_NOT_SIGNED
    if not no_check_time and now_ms - ts > SIGN_LIFETIME_MS:
        return ErrorCode.SIGN_EXPIRED
    if sign(signed.nonce, secret, signed.timestamp) != signed.sign:
        return ErrorCode.AUTH_FAILURE
    return ErrorCode.SUCCESS
