"""Request signing (§2): the same formula for the robot, admin and channel APIs."""

from __future__ import annotations

import hashlib
import secrets
import time


def sign(nonce: str, secret: str, timestamp_ms: int | str) -> str:
    """§2.1: lowercase hex SHA-1 of ``nonce|secret|timestamp``.

    ``secret`` is the robot's own secret on the robot API and ``http.admin.secret_key`` on the
    admin API. The timestamp is Unix time in milliseconds and must parse as a Java long.
    """
    if not nonce:
        raise ValueError("the nonce must be a non-empty string (§2.1)")
    if isinstance(timestamp_ms, bool) or not isinstance(timestamp_ms, int | str):
        raise TypeError("timestamp_ms must be an int or a decimal string of milliseconds (§2.1)")
    if isinstance(timestamp_ms, str) and not (timestamp_ms.isascii() and timestamp_ms.isdigit()):
        raise ValueError("timestamp_ms must be a decimal string of milliseconds (§2.1)")
    material = f"{nonce}|{secret}|{timestamp_ms}".encode()
    # SHA-1 is what the IM server compares against (§2.1); it is not our choice.
    return hashlib.sha1(material).hexdigest()  # noqa: S324


def new_nonce() -> str:
    # §2.1: any non-empty string; the official SDKs send a random integer, so do we.
    return str(secrets.randbelow(1_000_000_000) + 1)


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def signed_headers(
    secret: str, *, rid: str | None = None, nonce: str | None = None, timestamp_ms: int | None = None
) -> dict[str, str]:
    """§2.2: the headers of one signed request; ``rid`` (the robot's uid) for the robot API only.

    A fresh nonce and the current time are used unless given. The server keeps no nonce cache
    and rejects timestamps older than two hours with code 243 (§2.3), so sign every request anew.
    """
    nonce = new_nonce() if nonce is None else nonce
    timestamp = now_ms() if timestamp_ms is None else timestamp_ms
    headers = {"nonce": nonce, "timestamp": str(timestamp), "sign": sign(nonce, secret, timestamp)}
    if rid is not None:
        if not rid:
            raise ValueError("rid must be the robot's user id, not empty (§2.2)")
        headers["rid"] = rid
    return headers
