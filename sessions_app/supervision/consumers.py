"""The supervisors' live feed at ``ws/supervisor/``: timeline and seat events, one way.

The live view re-reads its panels when an event arrives, so the feed only has to say that
something changed; a lost event costs at most one polling interval (see static/js/live.js).
"""

from __future__ import annotations

import time
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from seats.services import user_id_may_supervise
from sessions_app.events import SUPERVISORS_GROUP

# Rights can be withdrawn while a page stays open: re-checked on the next event after this long.
RECHECK_SECONDS = 30.0
FORBIDDEN = 4403


class SupervisorConsumer(AsyncJsonWebsocketConsumer):  # type: ignore[misc]  # channels is untyped
    joined = False
    checked_at = 0.0

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

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        # The feed is one-way; a ping keeps proxies from dropping a quiet connection.
        if isinstance(content, dict) and content.get("type") == "ping":
            await self.send_json({"type": "pong"})

    # Events sent to the supervisors' group (``sessions_app.events``), one handler per type.

    async def seat_status(self, message: dict[str, Any]) -> None:
        await self._forward(message)

    async def session_timeline(self, message: dict[str, Any]) -> None:
        await self._forward(message)

    async def customer_updated(self, message: dict[str, Any]) -> None:
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
