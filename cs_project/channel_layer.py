"""channels_redis's core layer, receiving a batch of messages per round trip instead of one.

A process's consoles share one Redis queue (their channel names end in ``!``). channels_redis 4.3
takes one message off it with four round trips in a row (a clean-up script, BZPOPMIN, ZADD to an
"in flight" backup, and a ZPOPMIN of that backup that the next receive waits for), so one event to
each of 200 consoles took 200 × four round trips, one after the other: about 130 ms for the last
console (docs/benchmarks.md, fan-out). Here one script takes up to ``RECEIVE_BATCH`` messages at
once, in order, into the backup, and the next fetch first removes from the backup the ones this
process handed out, then puts whatever is left there (a fetch cancelled before its batch reached
this process) back at the head of the queue, as channels_redis does. So a message is never handed
out twice by this process, and a cancelled receive loses none.

Subclassing relies on ``receive_single`` and the pool of channels_redis 4.3 (pinned in
requirements.txt); ``tests/cs_project/test_channel_layer.py`` covers order, batches and cancellation.
"""

from __future__ import annotations

import collections
from typing import Any, cast

from channels_redis.core import RedisChannelLayer

RECEIVE_BATCH = 100

# KEYS: the queue, its backup. ARGV: how many; a member just taken by BZPOPMIN ('' for none) and its
# score, to take again at the head; how long the backup lives (a process that exits leaves it
# behind); then the members of the last batch that were handed out.
_FETCH = """
if #ARGV >= 5 then
    redis.call('ZREM', KEYS[2], unpack(ARGV, 5))
end
local backed_up = redis.call('ZRANGE', KEYS[2], 0, -1, 'WITHSCORES')
for i = #backed_up, 1, -2 do
    redis.call('ZADD', KEYS[1], backed_up[i], backed_up[i - 1])
end
redis.call('DEL', KEYS[2])
if ARGV[2] ~= '' then
    redis.call('ZADD', KEYS[1], ARGV[3], ARGV[2])
end
local popped = redis.call('ZPOPMIN', KEYS[1], tonumber(ARGV[1]))
for i = 1, #popped, 2 do
    redis.call('ZADD', KEYS[2], popped[i + 1], popped[i])
end
if #popped > 0 then
    redis.call('EXPIRE', KEYS[2], ARGV[4])
end
return popped
"""


class BatchReceivingRedisChannelLayer(RedisChannelLayer):  # type: ignore[misc]  # channels_redis is untyped
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Per Redis queue: the last batch's messages not handed out yet, and those handed out
        # (removed from the backup by the next fetch that reaches Redis).
        self._fetched: dict[str, collections.deque[bytes]] = {}
        self._handed_out: dict[str, list[bytes]] = {}

    async def receive_single(self, channel: str) -> tuple[str, dict[str, Any]]:
        if "!" not in channel:
            # A channel several processes may read (a worker's): its backup is theirs too, so a
            # batch held here would be put back for another reader. One at a time, as channels_redis.
            return cast("tuple[str, dict[str, Any]]", await super().receive_single(channel))
        assert self.require_valid_channel_name(channel, receive=True), "Channel name invalid"  # noqa: S101
        assert channel.endswith("!")  # noqa: S101
        index = self.consistent_hash(channel)
        channel_key = self.prefix + channel
        fetched = self._fetched.get(channel_key)
        if not fetched:
            await self.receive_clean_locks.acquire(channel_key)
            try:
                # Another receiver may have fetched a batch while this one waited for the lock.
                fetched = self._fetched.get(channel_key)
                if not fetched:
                    fetched = await self._fetch(index, channel_key)
            finally:
                self.receive_clean_locks.release(channel_key)
        content = fetched.popleft()
        self._handed_out.setdefault(channel_key, []).append(content)
        message: dict[str, Any] = self.deserialize(content)
        if "__asgi_channel__" in message:
            channel = message.pop("__asgi_channel__")
        return channel, message

    async def flush(self) -> None:
        self._fetched.clear()
        self._handed_out.clear()
        await super().flush()

    async def _fetch(self, index: int, channel_key: str) -> collections.deque[bytes]:
        """At least one message, waiting for it if need be (BZPOPMIN, the layer's timeout)."""
        connection = self.connection(index)
        backup = self._backup_channel_name(channel_key)
        popped = await self._eval_fetch(connection, channel_key, backup, b"", 0.0)
        while not popped:
            blocked = await connection.bzpopmin(channel_key, timeout=self.brpop_timeout)
            if blocked is None:
                continue
            _key, member, score = blocked
            # Cancelled before the next line reaches Redis, this member is lost, as in channels_redis
            # between its BZPOPMIN and its ZADD to the backup.
            popped = await self._eval_fetch(connection, channel_key, backup, member, score)
        batch = collections.deque(popped[0::2])
        self._fetched[channel_key] = batch
        return batch

    async def _eval_fetch(
        self, connection: Any, channel_key: str, backup: str, member: bytes, score: float
    ) -> list[bytes]:
        handed_out = self._handed_out.get(channel_key, [])
        popped: list[bytes] = await connection.eval(
            _FETCH, 2, channel_key, backup, RECEIVE_BATCH, member, score, self.expiry, *handed_out
        )
        # The script ran: what was handed out is out of the backup; the new batch is in it.
        self._handed_out[channel_key] = []
        return popped
