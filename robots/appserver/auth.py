"""Request authentication between the CS server and the App Server.

``signature = hex(HMAC-SHA256(key, timestamp "\\n" nonce "\\n" path "\\n" body))``, sent with the
timestamp (Unix seconds) and a random nonce. The server refuses a bad signature, a timestamp
more than ``MAX_SKEW_SECONDS`` away, and a nonce it has seen within the window (a replay); the
nonces seen are kept where every App Server process sees them (``robots.appserver.nonces``).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

MAX_SKEW_SECONDS = 60
# A request is fresh while its timestamp is within MAX_SKEW_SECONDS of now: first seen with a
# timestamp that far ahead, it stays fresh for twice the skew, so its nonce is kept that long.
NONCE_TTL_SECONDS = 2 * MAX_SKEW_SECONDS + 1
HEADER_TIMESTAMP = "X-CS-Timestamp"
HEADER_NONCE = "X-CS-Nonce"
HEADER_SIGNATURE = "X-CS-Signature"


def signature(key: str, *, timestamp: str, nonce: str, path: str, body: bytes) -> str:
    message = f"{timestamp}\n{nonce}\n{path}\n".encode() + body
    return hmac.new(key.encode(), message, hashlib.sha256).hexdigest()


def signed_headers(key: str, *, path: str, body: bytes, now: float | None = None) -> dict[str, str]:
    timestamp = str(int(time.time() if now is None else now))
    nonce = secrets.token_hex(16)
    return {
        HEADER_TIMESTAMP: timestamp,
        HEADER_NONCE: nonce,
        HEADER_SIGNATURE: signature(key, timestamp=timestamp, nonce=nonce, path=path, body=body),
        "Content-Type": "application/json; charset=utf-8",
    }


class AuthRefused(Exception):
    pass


class NonceStore(Protocol):
    async def claim(self, nonce: str, *, ttl_seconds: int) -> bool:
        """True the first time ``nonce`` is claimed within ``ttl_seconds``; False for a replay."""
        ...


@dataclass
class Verifier:
    key: str
    nonces: NonceStore

    async def verify(self, *, headers: Mapping[str, str], path: str, body: bytes, now: float | None = None) -> None:
        """``headers`` as received; their names are compared without regard to case (HTTP).

        The signature is checked before the nonce is recorded, so only holders of the key can
        write to the record.
        """
        now = time.time() if now is None else now
        received = {name.lower(): value for name, value in headers.items()}
        timestamp, nonce, sent = (
            received.get(h.lower(), "") for h in (HEADER_TIMESTAMP, HEADER_NONCE, HEADER_SIGNATURE)
        )
        # ASCII digits only ("²".isdigit() is true, and int() refuses it), and no longer than a time.
        if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12 and nonce and sent):
            raise AuthRefused("missing or malformed authentication headers")
        if abs(now - int(timestamp)) > MAX_SKEW_SECONDS:
            raise AuthRefused("stale request: timestamp outside the allowed window")
        expected = signature(self.key, timestamp=timestamp, nonce=nonce, path=path, body=body)
        if not hmac.compare_digest(expected, sent):
            raise AuthRefused("bad signature")
        if not await self.nonces.claim(nonce, ttl_seconds=NONCE_TTL_SECONDS):
            raise AuthRefused("replayed request")
