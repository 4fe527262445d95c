"""Channel-layer sends from synchronous code, through one long-lived event loop per process.

``async_to_sync(layer.group_send)`` called outside an event loop (a Celery worker, beat, the
services under Django's test client) runs every send in a loop of its own, and channels_redis
keeps its Redis connections per loop: each event paid for a new connection, about 2 ms. A loop
kept running in a daemon thread keeps its connections, and a send costs one Redis round trip
(about 0.3 ms; see docs/benchmarks.md). The loop and a channel layer instance of its own (never
shared with the consumers' loop) are made lazily in each process, after any fork.
"""

from __future__ import annotations

import asyncio
import os
import threading
from dataclasses import dataclass
from typing import Any

from channels.layers import DEFAULT_CHANNEL_LAYER, BaseChannelLayer, channel_layers

SEND_TIMEOUT_SECONDS = 5.0


@dataclass(frozen=True)
class _Sender:
    pid: int
    loop: asyncio.AbstractEventLoop
    layer: BaseChannelLayer


_lock = threading.Lock()
_sender: _Sender | None = None


def _current() -> _Sender:
    global _sender  # one per process, made on first use
    with _lock:
        if _sender is None or _sender.pid != os.getpid():  # a forked child does not inherit the thread
            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, name="channel-layer-sender", daemon=True).start()
            _sender = _Sender(pid=os.getpid(), loop=loop, layer=channel_layers.make_backend(DEFAULT_CHANNEL_LAYER))
        return _sender


def group_send(group: str, message: dict[str, Any]) -> None:
    """Send to a group from sync code and wait until the layer took it; raises what it raises."""
    sender = _current()
    future = asyncio.run_coroutine_threadsafe(sender.layer.group_send(group, message), sender.loop)
    future.result(timeout=SEND_TIMEOUT_SECONDS)


def group_send_many(sends: list[tuple[str, dict[str, Any]]]) -> None:
    """Several group sends from sync code in one hop to the sender's loop, made concurrently (their
    Redis round trips overlap): an event for a seat's consoles and for the supervisors monitoring
    the chat costs about one round trip, not two. Raises the first error, after all have run."""
    sender = _current()

    async def all_sends() -> None:
        results = await asyncio.gather(
            *(sender.layer.group_send(group, message) for group, message in sends), return_exceptions=True
        )
        for result in results:
            if isinstance(result, BaseException):
                raise result

    asyncio.run_coroutine_threadsafe(all_sends(), sender.loop).result(timeout=SEND_TIMEOUT_SECONDS)
