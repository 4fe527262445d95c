from __future__ import annotations

import asyncio
import multiprocessing

from channels.layers import get_channel_layer

from cs_project import layer_sender


async def _receive(group: str, sends: int) -> list[dict[str, object]]:
    layer = get_channel_layer()
    assert layer is not None
    channel = await layer.new_channel()
    await layer.group_add(group, channel)
    try:
        await asyncio.to_thread(_send_from_sync_code, group, sends)
        return [await asyncio.wait_for(layer.receive(channel), timeout=5) for _ in range(sends)]
    finally:
        await layer.group_discard(group, channel)


def _send_from_sync_code(group: str, sends: int) -> None:
    for number in range(sends):
        layer_sender.group_send(group, {"type": "test.event", "event": {"n": number}})


def test_sync_code_sends_through_one_kept_loop_and_in_order() -> None:
    received = asyncio.run(_receive("cs.test.sender", 20))
    assert [message["event"] for message in received] == [{"n": number} for number in range(20)]
    first = layer_sender._current().loop
    assert layer_sender._current().loop is first, "the loop (and its Redis connections) is kept"
    assert first.is_running()


def _child_loop(queue: multiprocessing.Queue[tuple[int, bool]]) -> None:
    _send_from_sync_code("cs.test.child", 1)  # would hang on the parent's loop: no thread runs it here
    loop = layer_sender._current().loop
    queue.put((id(loop), loop.is_running()))


def test_a_forked_process_makes_a_loop_of_its_own() -> None:
    parent = layer_sender._current().loop
    context = multiprocessing.get_context("fork")
    queue: multiprocessing.Queue[tuple[int, bool]] = context.Queue()
    child = context.Process(target=_child_loop, args=(queue,))
    child.start()
    child_loop, running = queue.get(timeout=10)
    child.join(timeout=10)
    assert child.exitcode == 0
    assert child_loop != id(parent)
    assert running


async def _receive_two_groups() -> tuple[dict[str, object], dict[str, object]]:
    layer = get_channel_layer()
    assert layer is not None
    first, second = await layer.new_channel(), await layer.new_channel()
    await layer.group_add("cs.test.seat", first)
    await layer.group_add("cs.test.monitor", second)
    try:
        await asyncio.to_thread(
            layer_sender.group_send_many,
            [
                ("cs.test.seat", {"type": "test.event", "event": {"to": "seat"}}),
                ("cs.test.monitor", {"type": "test.event", "event": {"to": "monitor"}}),
                ("cs.test.nobody", {"type": "test.event", "event": {"to": "nobody"}}),
            ],
        )
        return (
            await asyncio.wait_for(layer.receive(first), timeout=5),
            await asyncio.wait_for(layer.receive(second), timeout=5),
        )
    finally:
        await layer.group_discard("cs.test.seat", first)
        await layer.group_discard("cs.test.monitor", second)


def test_several_groups_get_their_own_send_in_one_hop() -> None:
    seat, monitor = asyncio.run(_receive_two_groups())
    assert (seat["event"], monitor["event"]) == ({"to": "seat"}, {"to": "monitor"})
