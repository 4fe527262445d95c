"""The supervisors' live feed at ``ws/supervisor/``: timeline and seat events, and the messages
of the one session the page monitors.

The live view re-reads its panels when an event arrives, so the feed only has to say that
something changed; a lost event costs at most one polling interval (see static/js/live.js).

Client to server, one JSON object per frame: ``{"type": "ping"}``; ``{"type": "monitor",
"session_id": N}`` subscribes to that session's ``message.new`` events (whispers included; one
session at a time, answered ``{"type": "monitoring", "session_id": N}``); ``{"type":
"unmonitor"}``. The monitor reads what came before over HTTP (``/admin/live/sessions/N/monitor/``).
"""

from __future__ import annotations

import time
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from seats.services import user_id_may_supervise
from sessions_app.events import SUPERVISORS_GROUP, monitor_group

# Rights can be withdrawn while a page stays open: re-checked on the next event after this long.
RECHECK_SECONDS = 30.0
FORBIDDEN = 4403


class SupervisorConsumer(AsyncJsonWebsocketConsumer):  # type: ignore[misc]  # channels is untyped
    joined = False
    checked_at = 0.0
    monitored: int | None = None

    async def connect(self) -> None:
        if not await self._allowed():
            await self.close(code=FORBIDDEN)  # before accept(): the handshake is refused (403)
            return
        await self.channel_layer.group_add(SUPERVISORS_GROUP, self.channel_name)
        self.joined = True
        await self.accept()
        await self.send_json({"type": "hello"})

    async def disconnect(self, code: int) -> None:
        if self.joined:
            await self.channel_layer.group_discard(SUPERVISORS_GROUP, self.channel_name)
        await self._unmonitor()

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        # A ping keeps proxies from dropping a quiet connection.
        kind = content.get("type") if isinstance(content, dict) else None
        if kind == "ping":
            await self.send_json({"type": "pong"})
        elif kind == "monitor":
            await self._monitor(content.get("session_id"))
        elif kind == "unmonitor":
            await self._unmonitor()
            await self.send_json({"type": "monitoring", "session_id": None})

    async def _monitor(self, session_id: object) -> None:
        if isinstance(session_id, bool) or not isinstance(session_id, int) or session_id <= 0:
            await self.send_json({"type": "error", "code": "bad_request", "reason": "session_id must be a number"})
            return
        if not await self._allowed():  # rights are checked again for every subscription
            await self.close(code=FORBIDDEN)
            return
        await self._unmonitor()
        await self.channel_layer.group_add(monitor_group(session_id), self.channel_name)
        self.monitored = session_id
        await self.send_json({"type": "monitoring", "session_id": session_id})

    async def _unmonitor(self) -> None:
        if self.monitored is not None:
            await self.channel_layer.group_discard(monitor_group(self.monitored), self.channel_name)
            self.monitored = None

    # Events sent to the supervisors' group (``sessions_app.events``), one handler per type.

    async def seat_status(self, message: dict[str, Any]) -> None:
        await self._forward(message)

    async def session_timeline(self, message: dict[str, Any]) -> None:
        await self._forward(message)

    async def customer_updated(self, message: dict[str, Any]) -> None:
        await self._forward(message)

    async def message_new(self, message: dict[str, Any]) -> None:
        """A message of the monitored session (only its group sends this type here)."""
        if message["event"].get("session_id") == self.monitored:
            await self._forward(message)

    async def _forward(self, message: dict[str, Any]) -> None:
        if time.monotonic() - self.checked_at > RECHECK_SECONDS and not await self._allowed():
            await self.close(code=FORBIDDEN)
            return
        await self.send_json(message["event"])

    async def _allowed(self) -> bool:
        user = self.scope.get("user")
        user_id = getattr(user, "pk", None) if user is not None and user.is_authenticated else None
        allowed: bool = await database_sync_to_async(user_id_may_supervise)(user_id)
        self.checked_at = time.monotonic()
        return allowed
