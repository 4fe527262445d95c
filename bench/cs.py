"""The CS server's side, read and prepared through its own models (after ``context.django_setup``).

Bulk helpers write rows directly where the product has no bulk path (seats for a load test);
everything the scenarios measure goes through the running stack.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import redis
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import User
from django.contrib.sessions.backends.db import SessionStore
from django.db import close_old_connections

from robots.models import InboundMessage, OutboundMessage, Robot
from seats.models import Seat

CELERY_QUEUE = "celery"


def cs_robot_token() -> str:
    return Robot.objects.get(robot_id=settings.CS_ROBOT_ID).callback_token


def callback_path(token: str) -> str:
    return f"/wfc/callback/{settings.CS_ROBOT_ID}?k={token}"


def _redis() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL)


def celery_backlog() -> int:
    """Task messages waiting in the broker or taken but not yet acknowledged (``acks_late``)."""
    client = _redis()
    return int(client.llen(CELERY_QUEUE)) + int(client.hlen("unacked"))


def outbox_pending() -> int:
    return OutboundMessage.objects.filter(state=OutboundMessage.State.PENDING).count()


def inbound_pending() -> int:
    """Customer messages stored and not yet acted on (the inbound_stream process's backlog)."""
    return InboundMessage.objects.filter(state=InboundMessage.State.PENDING).count()


def wait_for_quiet(*, timeout: float) -> float | None:
    """Seconds until the stack has nothing left to do (no task, no message to act on, no pending
    send); None on timeout."""
    started = time.monotonic()
    quiet_since: float | None = None
    while time.monotonic() - started < timeout:
        if celery_backlog() == 0 and inbound_pending() == 0 and outbox_pending() == 0:
            quiet_since = quiet_since or time.monotonic()
            if time.monotonic() - quiet_since >= 0.5:  # still quiet: not a gap between two tasks
                return quiet_since - started
        else:
            quiet_since = None
        time.sleep(0.1)
    return None


def discard_pending_work() -> int:
    """End a measurement: drop queued tasks and unsent outbox rows, so the next run starts idle."""
    client = _redis()
    client.delete(CELERY_QUEUE)
    InboundMessage.objects.filter(state=InboundMessage.State.PENDING).update(
        state=InboundMessage.State.FAILED, last_error="discarded by the benchmark"
    )
    discarded = OutboundMessage.objects.filter(state=OutboundMessage.State.PENDING).update(
        state=OutboundMessage.State.FAILED, last_error="discarded by the benchmark"
    )
    close_old_connections()
    return discarded


def settle(*, wait: float = 3.0) -> None:
    """Start the next run idle: a short wait for the worker, then drop what it has not done."""
    if wait_for_quiet(timeout=wait) is None:
        discard_pending_work()
        wait_for_quiet(timeout=30)


@dataclass(frozen=True)
class BenchSeat:
    seat_id: int
    user_id: int
    im_user_id: str
    capacity: int


_PASSWORD_HASH: list[str] = []


def seats_create(
    *, prefix: str, count: int, capacity: int, im: bool, status: Seat.Status = Seat.Status.ONLINE
) -> list[BenchSeat]:
    """``count`` servicer accounts with seats, in two bulk inserts (one password hash for all)."""
    if not _PASSWORD_HASH:
        _PASSWORD_HASH.append(make_password("bench-not-for-login"))
    users = User.objects.bulk_create(
        [User(username=f"{prefix}{number}", password=_PASSWORD_HASH[0]) for number in range(count)]
    )
    seats = Seat.objects.bulk_create(
        [
            Seat(
                user=user,
                display_name=f"Servicer {user.username}",
                capacity=capacity,
                status=status,
                im_user_id=f"{user.username}-im" if im else "",
            )
            for user in users
        ]
    )
    return [BenchSeat(seat.pk, seat.user_id, seat.im_user_id, capacity) for seat in seats]


def login_session_key(user_id: int) -> str:
    """A logged-in Django session for a user, as the login view would create: the console's cookie."""
    user = User.objects.get(pk=user_id)
    store = SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.create()
    assert store.session_key is not None
    return store.session_key
