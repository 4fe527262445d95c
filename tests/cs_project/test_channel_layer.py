"""The channel layer takes a batch of messages per round trip (cs_project.channel_layer), against the
real Redis: order kept, nothing handed out twice, nothing lost when a receive is cancelled."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from django.conf import settings

from cs_project import channel_layer
from cs_project.channel_layer import _FETCH, BatchReceivingRedisChannelLayer


@pytest.fixture
async def layer(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[BatchReceivingRedisChannelLayer]:
    monkeypatch.setattr(channel_layer, "RECEIVE_BATCH", 10)  # several batches with few messages
    layers: dict[str, dict[str, Any]] = settings.CHANNEL_LAYERS
    config = {**layers["default"]["CONFIG"]}
    config["prefix"] = f"cs:test-layer:{uuid.uuid4().hex[:8]}"
    made = BatchReceivingRedisChannelLayer(**config)
    try:
        yield made
    finally:
        await made.flush()
        await made.close_pools()


async def _send(layer: BatchReceivingRedisChannelLayer, channel: str, numbers: range) -> None:
    for number in numbers:
        await layer.send(channel, {"type": "test.event", "n": number})


async def _receive(layer: BatchReceivingRedisChannelLayer, channel: str, count: int) -> list[int]:
    return [(await asyncio.wait_for(layer.receive(channel), timeout=5))["n"] for _ in range(count)]


async def test_messages_come_in_order_across_batches_and_once(layer: BatchReceivingRedisChannelLayer) -> None:
    channel = await layer.new_channel()
    await _send(layer, channel, range(35))
    assert await _receive(layer, channel, 35) == list(range(35))
    await _send(layer, channel, range(35, 40))
    assert await _receive(layer, channel, 5) == list(range(35, 40)), "nothing of an earlier batch again"


async def test_consoles_of_one_process_share_a_batch(layer: BatchReceivingRedisChannelLayer) -> None:
    first, second = await layer.new_channel(), await layer.new_channel()
    for number in range(12):
        await layer.send(first if number % 2 else second, {"type": "test.event", "n": number})
    assert await _receive(layer, first, 6) == [1, 3, 5, 7, 9, 11]
    assert await _receive(layer, second, 6) == [0, 2, 4, 6, 8, 10]


async def test_a_receive_cancelled_while_waiting_loses_nothing(layer: BatchReceivingRedisChannelLayer) -> None:
    channel = await layer.new_channel()
    waiting = asyncio.ensure_future(layer.receive(channel))
    await asyncio.sleep(0.2)  # blocked in BZPOPMIN
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    await _send(layer, channel, range(3))
    assert await _receive(layer, channel, 3) == [0, 1, 2]


async def test_a_batch_that_never_reached_the_process_is_fetched_again_and_only_it(
    layer: BatchReceivingRedisChannelLayer,
) -> None:
    channel = await layer.new_channel()
    await _send(layer, channel, range(4))
    assert await _receive(layer, channel, 2) == [0, 1], "a batch of four, two handed out"
    assert await _receive(layer, channel, 2) == [2, 3]
    await _send(layer, channel, range(4, 8))
    # A fetch whose script ran in Redis but whose answer was lost (the receive was cancelled
    # meanwhile): messages 4-7 are in the backup, not in the queue, and this process never saw them.
    queue = layer.prefix + channel.split("!")[0] + "!"
    connection = layer.connection(layer.consistent_hash(channel.split("!")[0] + "!"))
    handed_out = layer._handed_out[queue]  # what the cancelled fetch sent along, as _eval_fetch does
    backup = layer._backup_channel_name(queue)
    lost = await connection.eval(_FETCH, 2, queue, backup, 10, b"", 0.0, layer.expiry, *handed_out)
    assert len(lost) == 8, "four messages, with their scores"
    assert await _receive(layer, channel, 4) == [4, 5, 6, 7], "put back, and 0-3 (handed out) not again"
    await _send(layer, channel, range(8, 9))
    assert await _receive(layer, channel, 1) == [8]


async def test_a_channel_that_several_processes_read_is_taken_one_message_at_a_time(
    layer: BatchReceivingRedisChannelLayer,
) -> None:
    """A plain channel (no "!"): two layers reading it never get the same message."""
    config: dict[str, Any] = {"hosts": layer.hosts, "prefix": layer.prefix, "capacity": 1000}
    other = BatchReceivingRedisChannelLayer(**config)
    try:
        await _send(layer, "work", range(6))
        first = [(await asyncio.wait_for(layer.receive("work"), timeout=5))["n"] for _ in range(2)]
        second = [(await asyncio.wait_for(other.receive("work"), timeout=5))["n"] for _ in range(4)]
        assert sorted(first + second) == list(range(6)), "each message once"
    finally:
        await other.close_pools()


async def test_the_in_flight_backup_does_not_outlive_the_layer_s_expiry(layer: BatchReceivingRedisChannelLayer) -> None:
    channel = await layer.new_channel()
    await _send(layer, channel, range(2))
    assert await _receive(layer, channel, 2) == [0, 1]
    queue = layer.prefix + channel.split("!")[0] + "!"
    connection = layer.connection(layer.consistent_hash(channel.split("!")[0] + "!"))
    ttl = await connection.ttl(layer._backup_channel_name(queue))
    assert 0 < ttl <= layer.expiry
