"""Acting on the sandbox IM server from tests: customers sending, and reading inboxes."""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests

Json = dict[str, Any]


@dataclass(frozen=True)
class SandboxIm:
    robot_url: str

    def client_send(self, *, sender: str, target: str, payload: Json, line: int = 0) -> Json:
        """What a user's Wildfire client does when it sends a private message."""
        response = requests.post(
            f"{self.robot_url}/sandbox/api/client/send",
            json={"sender": sender, "conv": {"type": 0, "target": target, "line": line}, "payload": payload},
            timeout=10,
        )
        response.raise_for_status()
        body: Json = response.json()
        return body

    def say(self, sender: str, text: str, *, to: str = "cs_robot") -> Json:
        return self.client_send(
            sender=sender, target=to, payload={"type": 1, "searchableContent": text, "persistFlag": 3}
        )

    def control(self, sender: str, content_type: int, data: Json | None = None, *, to: str = "cs_robot") -> Json:
        payload = {"type": content_type, "persistFlag": 0, "content": json.dumps(data or {})}
        return self.client_send(sender=sender, target=to, payload=payload)

    def inbox(self, user: str) -> list[Json]:
        response = requests.get(f"{self.robot_url}/sandbox/api/messages", params={"user": user}, timeout=10)
        response.raise_for_status()
        messages: list[Json] = response.json()
        return messages

    def texts(self, user: str, *, sender: str | None = None) -> list[str]:
        return [
            m["payload"].get("searchableContent", "")
            for m in self.inbox(user)
            if m["payload"].get("type") == 1 and (sender is None or m["sender"] == sender)
        ]

    def wait_for(
        self, user: str, predicate: Callable[[list[Json]], bool], *, timeout: float = 15, what: str
    ) -> list[Json]:
        deadline = time.monotonic() + timeout
        while True:
            messages = self.inbox(user)
            if predicate(messages):
                return messages
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}; {user}'s inbox: {messages}")
            time.sleep(0.1)

    def wait_for_text(self, user: str, fragment: str, *, timeout: float = 15) -> Json:
        def found(messages: list[Json]) -> bool:
            return any(fragment in m["payload"].get("searchableContent", "") for m in messages)

        messages = self.wait_for(user, found, timeout=timeout, what=f"a message containing {fragment!r}")
        return next(m for m in messages if fragment in m["payload"].get("searchableContent", ""))


def callback_body(*, robot_id: str, sender: str, text: str) -> bytes:
    """What the IM server POSTs to a robot's callback for a private text message (§5.1)."""
    body = {
        "messageId": random.randrange(2**60, 2**62),
        "sender": sender,
        "conv": {"type": 0, "target": robot_id, "line": 0},
        "payload": {"type": 1, "searchableContent": text, "persistFlag": 3},
        "toUsers": [],
        "timestamp": int(time.time() * 1000),
    }
    return json.dumps(body).encode()
