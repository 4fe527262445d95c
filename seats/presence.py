"""Presence: a seat that lost its console stops taking new customers, and takes them again when
the console comes back.

Console connections are kept in Redis, not in a process's memory, because several ASGI processes
serve consoles. Per seat, a sorted set maps each connection (its channel name) to the time it
expires; the consumer refreshes it every ``HEARTBEAT_SECONDS``, so the connections of a process
that died expire on their own. Times come from Redis's clock, the one clock every process shares.

1. A console connects: its connection is added; a seat that presence made away comes back online.
2. A console disconnects: its connection is removed and the time noted; when it was the seat's
   last one, a check is scheduled ``CS_PRESENCE_GRACE_SECONDS`` later (Celery ``countdown``).
3. The check: if the seat still has no live connection and the grace has passed since it lost
   the last one, an online seat goes away, marked ``away_automatic``. A periodic sweep runs the
   same check for every seat with tracked connections, for processes that died without saying so.

A seat that never opened the console (a servicer working from the IM app) is never touched.
"""

from __future__ import annotations

import functools
import logging
from typing import cast

import redis
from django.conf import settings
from django.db import transaction

from cs_project.task_queue import task_enqueue
from seats.models import Seat
from seats.services import seat_status_set

logger = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 30
CONNECTION_TTL_SECONDS = 90  # three missed heartbeats
TRACKED_SEATS_KEY = "cs:presence:seats"


@functools.cache
def _client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)


def _redis() -> redis.Redis:
    return _client(settings.REDIS_URL)


def _connections_key(seat_id: int) -> str:
    return f"cs:presence:{seat_id}:connections"


def _left_key(seat_id: int) -> str:
    return f"cs:presence:{seat_id}:left"


def _now(client: redis.Redis) -> float:
    seconds, microseconds = client.time()
    return float(seconds) + microseconds / 1_000_000


def presence_connected(*, seat_id: int, connection: str) -> None:
    """A console of this seat connected."""
    client = _redis()
    client.zadd(_connections_key(seat_id), {connection: _now(client) + CONNECTION_TTL_SECONDS})
    client.sadd(TRACKED_SEATS_KEY, seat_id)
    _return_if_automatically_away(seat_id=seat_id)


def presence_refresh(*, seat_id: int, connection: str) -> None:
    client = _redis()
    client.zadd(_connections_key(seat_id), {connection: _now(client) + CONNECTION_TTL_SECONDS})


def presence_disconnected(*, seat_id: int, connection: str) -> None:
    """A console of this seat disconnected: when it was the last one, check again after the grace."""
    client = _redis()
    client.zrem(_connections_key(seat_id), connection)
    client.set(_left_key(seat_id), _now(client), ex=86400)
    if _live_connections(client, seat_id) > 0:
        return
    try:
        task_enqueue("seats.tasks.presence_check_task", seat_id, countdown=settings.CS_PRESENCE_GRACE_SECONDS)
    except Exception:
        # The periodic sweep makes the same check; a broker hiccup only delays it.
        logger.exception("could not schedule the presence check of seat %s", seat_id)


def presence_connection_count(*, seat_id: int) -> int:
    return _live_connections(_redis(), seat_id)


def _live_connections(client: redis.Redis, seat_id: int) -> int:
    """Forget expired connections (noting when they expired as a departure); count the rest."""
    key = _connections_key(seat_id)
    now = _now(client)
    expired = cast("list[tuple[bytes, float]]", client.zrangebyscore(key, "-inf", now, withscores=True))
    if expired:
        client.zremrangebyscore(key, "-inf", now)
        latest = max(score for _member, score in expired)
        previous = client.get(_left_key(seat_id))
        if previous is None or float(previous) < latest:
            client.set(_left_key(seat_id), latest, ex=86400)
    return int(client.zcard(key))


def presence_check(*, seat_id: int) -> bool:
    """Make the seat away if its consoles have been gone for the grace period; True if it did."""
    client = _redis()
    if _live_connections(client, seat_id) > 0:
        return False
    left = client.get(_left_key(seat_id))
    if left is None:
        client.srem(TRACKED_SEATS_KEY, seat_id)  # nothing known to wait for
        return False
    if _now(client) < float(left) + settings.CS_PRESENCE_GRACE_SECONDS:
        return False  # too early: the check scheduled by the latest departure, or the sweep, comes later
    with transaction.atomic():
        # Counted again under the seat's row lock: a console connecting now either shows up in
        # this count or, after this commits, finds the seat automatically away and brings it back.
        seat = Seat.objects.select_for_update(no_key=True).filter(pk=seat_id).first()
        if seat is None or _live_connections(client, seat_id) > 0:
            return False
        client.srem(TRACKED_SEATS_KEY, seat_id)
        if seat.status != Seat.Status.ONLINE:
            return False
        seat_status_set(seat=seat, status=Seat.Status.AWAY, automatic=True)
    logger.info(
        "seat %s is away: its console has been disconnected for %ss", seat_id, settings.CS_PRESENCE_GRACE_SECONDS
    )
    return True


def presence_sweep() -> int:
    """Check every seat with tracked connections; the number made away."""
    client = _redis()
    seat_ids = [int(member) for member in client.smembers(TRACKED_SEATS_KEY)]
    return sum(presence_check(seat_id=seat_id) for seat_id in seat_ids)


def _return_if_automatically_away(*, seat_id: int) -> None:
    with transaction.atomic():
        seat = Seat.objects.select_for_update(no_key=True).filter(pk=seat_id).first()
        if seat is not None and seat.status == Seat.Status.AWAY and seat.away_automatic:
            seat_status_set(seat=seat, status=Seat.Status.ONLINE)
            logger.info("seat %s is back online: its console reconnected", seat_id)
