"""Robot rows kept in this process's memory for a minute.

Every callback authenticates its robot and every send is signed by one, so reading the row each
time was one statement per message on the hottest paths. A robot's id and kind never change; its
secret and callback token change only when it is set up again (``wfc_setup``, a shadow's first
provisioning). So: the process that changes a robot drops it here at once; another process keeps
its copy for at most ``ROBOT_CACHE_SECONDS``, a callback whose token does not match the copy reads
the row again (a rotated token works at once; the old one is still taken by another process for at
most that minute), and a send refused with 401 drops the cache and is retried once
(robots.outbox, robots.outbox_stream).
"""

from __future__ import annotations

import threading
import time

from robots.models import Robot

ROBOT_CACHE_SECONDS = 60.0
_MAX_ENTRIES = 20_000  # expired entries are dropped when the cache grows past this

_lock = threading.Lock()
_by_robot_id: dict[str, tuple[float, Robot]] = {}
_by_pk: dict[int, tuple[float, Robot]] = {}


def robot_known(robot_id: str) -> Robot | None:
    """The robot with this IM id if this process remembers it (no statement), else None."""
    if (known := _by_robot_id.get(robot_id)) is not None and known[0] > time.monotonic():
        return known[1]
    return None


def robot_by_robot_id(robot_id: str, *, fresh: bool = False) -> Robot | None:
    """The robot with this IM id, or None; from memory unless ``fresh`` or not known yet."""
    if not fresh and (known := robot_known(robot_id)) is not None:
        return known
    robot = Robot.objects.filter(robot_id=robot_id).first()
    if robot is None:
        robot_cache_forget(robot_id)
        return None
    robot_remember(robot)
    return robot


def robot_by_pk(pk: int) -> Robot:
    """The robot with this row id (``Robot.DoesNotExist`` if there is none)."""
    if (known := _by_pk.get(pk)) is not None and known[0] > time.monotonic():
        return known[1]
    robot = Robot.objects.get(pk=pk)
    robot_remember(robot)
    return robot


def robot_remember(robot: Robot) -> None:
    now = time.monotonic()
    with _lock:
        if len(_by_pk) > _MAX_ENTRIES:
            for cache in (_by_pk, _by_robot_id):
                for key in [key for key, (until, _robot) in cache.items() if until <= now]:
                    cache.pop(key, None)  # type: ignore[arg-type]
        entry = (now + ROBOT_CACHE_SECONDS, robot)
        _by_robot_id[robot.robot_id] = entry
        _by_pk[robot.pk] = entry


def robot_cache_forget(robot_id: str | None = None) -> None:
    """Drop one robot (by IM id), or every robot, from this process's memory."""
    with _lock:
        if robot_id is None:
            _by_robot_id.clear()
            _by_pk.clear()
            return
        known = _by_robot_id.pop(robot_id, None)
        if known is not None:
            _by_pk.pop(known[1].pk, None)
