"""The IM side of the load: what customers' and servicers' Wildfire clients do, through the sandbox.

Uses the sandbox's test-control API (``wfsandbox/README.md``): ``client/send`` is a user's client
sending (same checks and routing as the real server, callbacks included), ``messages`` reads an
inbox, ``config`` changes run-time settings such as ``robotRateLimit``.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import aiohttp

Json = dict[str, Any]
# §2.5: the default bucket is 1000 per 10 s per robot; the CS Robot carries every reply, so the
# scenarios that measure the CS server, not the IM server's limit, raise it this high.
UNLIMITED_ROBOT_RATE = 10_000_000


@dataclass(frozen=True)
class InboxMessage:
    sender: str
    text: str
    content_type: int
    message_uid: int
    timestamp_ms: int


class SandboxClient:
    def __init__(self, robot_url: str, session: aiohttp.ClientSession) -> None:
        self.robot_url = robot_url
        self.session = session

    async def configure(self, **patch: object) -> Json:
        async with self.session.post(f"{self.robot_url}/sandbox/api/config", json=patch) as response:
            response.raise_for_status()
            body: Json = await response.json()
            return body

    async def create_user(self, user_id: str, display_name: str = "") -> None:
        body = {"userId": user_id, "displayName": display_name or user_id}
        async with self.session.post(f"{self.robot_url}/sandbox/api/users", json=body) as response:
            if response.status not in (200, 201):
                raise RuntimeError(f"could not create sandbox user {user_id}: HTTP {response.status}")

    async def create_users(self, user_ids: list[str], *, concurrency: int = 16) -> None:
        await gather_limited([self.create_user(user_id) for user_id in user_ids], limit=concurrency)

    async def send_text(self, *, sender: str, target: str, text: str) -> Json:
        """What the sender's client does; returns the robot API envelope (``code`` 0 on success)."""
        body = {
            "sender": sender,
            "conv": {"type": 0, "target": target, "line": 0},
            "payload": {"type": 1, "searchableContent": text, "persistFlag": 3},
        }
        async with self.session.post(f"{self.robot_url}/sandbox/api/client/send", json=body) as response:
            response.raise_for_status()
            envelope: Json = await response.json(content_type=None)
            return envelope

    async def inbox(self, user: str, *, after: int = 0) -> list[InboxMessage]:
        params = {"user": user, "after": str(after)}
        async with self.session.get(f"{self.robot_url}/sandbox/api/messages", params=params) as response:
            response.raise_for_status()
            raw: list[Json] = await response.json()
        return [
            InboxMessage(
                sender=str(item["sender"]),
                text=str(item["payload"].get("searchableContent", "")),
                content_type=int(item["payload"].get("type", 0)),
                message_uid=int(item["messageUid"]),
                timestamp_ms=int(item["timestamp"]),
            )
            for item in raw
        ]

    async def callbacks_pending(self) -> int:
        """Callbacks the sandbox has queued or in flight (it posts at most 5 at a time, §5.2)."""
        async with self.session.get(f"{self.robot_url}/sandbox/api/callbacks") as response:
            response.raise_for_status()
            body: Json = await response.json()
        return int(body["pending"])

    async def callback_failures(self) -> int:
        async with self.session.get(f"{self.robot_url}/sandbox/api/callbacks") as response:
            response.raise_for_status()
            body: Json = await response.json()
        return sum(1 for attempt in body["attempts"] if attempt["error"] or attempt["status"] != 200)


async def gather_limited(coroutines: list[Any], *, limit: int) -> list[Any]:
    """``asyncio.gather`` with at most ``limit`` coroutines running at once."""
    semaphore = asyncio.Semaphore(limit)

    async def one(coroutine: Any) -> Any:
        async with semaphore:
            return await coroutine

    return await asyncio.gather(*(one(coroutine) for coroutine in coroutines))


def http_session(*, limit: int = 100) -> aiohttp.ClientSession:
    connector = aiohttp.TCPConnector(limit=limit, limit_per_host=limit)
    return aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=30))
