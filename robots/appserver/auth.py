"""Request authentication between the CS server and the App Server.

``signature = hex(HMAC-SHA256(key, timestamp "\\n" nonce "\\n" path "\\n" body))``, sent with the
timestamp (Unix seconds) and a random nonce. The server refuses a bad signature, a timestamp
more than ``MAX_SKEW_SECONDS`` away, and a nonce it has seen within the window (a replay).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

MAX_SKEW_SECONDS = 60
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


@dataclass
class Verifier:
    key: str
    seen: dict[str, float] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def verify(self, *, headers: Mapping[str, str], path: str, body: bytes, now: float | None = None) -> None:
        """``headers`` as received; their names are compared without regard to case (HTTP)."""
        now = time.time() if now is None else now
        received = {name.lower(): value for name, value in headers.items()}
        timestamp, nonce, sent = (
            received.get(h.lower(), "") for h in (HEADER_TIMESTAMP, HEADER_NONCE, HEADER_SIGNATURE)
        )
        if not (timestamp.isdigit() and nonce and sent):
            raise AuthRefused("missing or malformed authentication headers")
        if abs(now - int(timestamp)) > MAX_SKEW_SECONDS:
            raise AuthRefused("stale request: timestamp outside the allowed window")
        expected = signature(self.key, timestamp=timestamp, nonce=nonce, path=path, body=body)
        if not hmac.compare_digest(expected, sent):
            raise AuthRefused("bad signature")
        with self.lock:
            for old, seen_at in list(self.seen.items()):
                if now - seen_at > 2 * MAX_SKEW_SECONDS:
                    del self.seen[old]
            if nonce in self.seen:
                raise AuthRefused("replayed request")
            self.seen[nonce] = now
