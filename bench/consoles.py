"""Servicer consoles as the browser runs them: one websocket each at ``ws/console/``, logged in.

Each console is authenticated with a real Django session cookie (``cs.login_session_key``) and an
``Origin`` header, the CS server's own URL, as its origin check (cs_project.asgi) requires. Every
frame received is handed to ``on_event`` with its arrival time, so scenarios can match events to what they sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from bench.im import gather_limited

Json = dict[str, Any]
EventHandler = Callable[[int, Json, float], None]


@dataclass
class Console:
    seat_id: int
    ws: aiohttp.ClientWebSocketResponse
    reader: asyncio.Task[None] | None = None
    hello: asyncio.Event = field(default_factory=asyncio.Event)
    closed_code: int | None = None

    async def send(self, frame: Json) -> None:
        await self.ws.send_str(json.dumps(frame))


async def _read(console: Console, on_event: EventHandler) -> None:
    async for message in console.ws:
        if message.type != aiohttp.WSMsgType.TEXT:
            break
        arrived = time.time()
        frame = json.loads(message.data)
        if frame.get("type") == "hello":
            console.hello.set()
        on_event(console.seat_id, frame, arrived)
    console.closed_code = console.ws.close_code
    console.hello.set()  # a console closed before hello must not keep anyone waiting


async def connect_console(
    session: aiohttp.ClientSession, *, cs_url: str, seat_id: int, session_key: str, on_event: EventHandler
) -> Console:
    ws_url = cs_url.replace("http://", "ws://") + "/ws/console/"
    ws = await session.ws_connect(
        ws_url,
        headers={"Cookie": f"sessionid={session_key}", "Origin": cs_url},
        heartbeat=None,
        max_msg_size=0,
    )
    console = Console(seat_id=seat_id, ws=ws)
    console.reader = asyncio.create_task(_read(console, on_event))
    await asyncio.wait_for(console.hello.wait(), timeout=30)
    if console.closed_code is not None:
        raise RuntimeError(f"console of seat {seat_id} was closed with code {console.closed_code}")
    return console


async def connect_consoles(
    session: aiohttp.ClientSession,
    *,
    cs_url: str,
    logins: list[tuple[int, str]],
    on_event: EventHandler,
    concurrency: int = 10,
) -> list[Console]:
    """Connect one console per ``(seat_id, session_key)``, ``concurrency`` handshakes at a time."""
    consoles: list[Console] = await gather_limited(
        [
            connect_console(session, cs_url=cs_url, seat_id=seat_id, session_key=key, on_event=on_event)
            for seat_id, key in logins
        ],
        limit=concurrency,
    )
    return consoles


async def close_consoles(consoles: list[Console]) -> None:
    for console in consoles:
        with contextlib.suppress(Exception):
            await console.ws.close()
        if console.reader is not None:
            console.reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await console.reader


def console_session() -> aiohttp.ClientSession:
    """Unlimited connections: every console holds one for the whole scenario."""
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
