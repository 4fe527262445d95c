"""Health of the pieces the CS server depends on, as reported by ``GET /healthz``."""

from __future__ import annotations

import time
from typing import TypedDict

import redis
from django.conf import settings
from django.db import connection

WORKER_HEARTBEAT_KEY = "cs:health:worker-heartbeat"
# Written every 10 s by the outbox_stream process (robots/outbox_stream.py), kept for 45 s.
OUTBOX_HEARTBEAT_KEY = "cs:health:outbox-heartbeat"
# Written every 10 s by the inbound_stream process (robots/inbound_stream.py), kept for 45 s.
INBOUND_HEARTBEAT_KEY = "cs:health:inbound-heartbeat"


class CheckResult(TypedDict):
    ok: bool
    detail: str


class HealthReport(TypedDict):
    ok: bool
    database: CheckResult
    redis: CheckResult
    celery_worker: CheckResult
    outbox_delivery: CheckResult
    inbound_drain: CheckResult


def _redis_client() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL, socket_timeout=1, socket_connect_timeout=1)


def check_database() -> CheckResult:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # noqa: BLE001 - any failure means "down"; the class name says why
        return {"ok": False, "detail": type(exc).__name__}
    return {"ok": True, "detail": connection.vendor}


def check_redis() -> CheckResult:
    try:
        _redis_client().ping()
    except redis.RedisError as exc:
        return {"ok": False, "detail": type(exc).__name__}
    return {"ok": True, "detail": "pong"}


def record_worker_heartbeat() -> None:
    """Called by a Celery worker: proves that a worker picks up tasks."""
    ttl = int(settings.CS_WORKER_HEARTBEAT_MAX_AGE.total_seconds())
    _redis_client().set(WORKER_HEARTBEAT_KEY, repr(time.time()), ex=ttl)


def check_celery_worker() -> CheckResult:
    return _check_heartbeat(WORKER_HEARTBEAT_KEY, "no worker heartbeat recently")


def check_outbox_delivery() -> CheckResult:
    """The outbox_stream process, which sends everything to the IM server, is alive."""
    if settings.CS_OUTBOX_DELIVERY == "inline":
        return {"ok": True, "detail": "inline (in the committing process)"}
    return _check_heartbeat(OUTBOX_HEARTBEAT_KEY, "no outbox_stream heartbeat recently")


def check_inbound_drain() -> CheckResult:
    """The inbound_stream process, which acts on stored customer messages, is alive."""
    if settings.CS_INBOUND_DRAIN == "request":
        return {"ok": True, "detail": "request (in the callback's request)"}
    return _check_heartbeat(INBOUND_HEARTBEAT_KEY, "no inbound_stream heartbeat recently")


def _check_heartbeat(key: str, missing: str) -> CheckResult:
    try:
        raw = _redis_client().get(key)
    except redis.RedisError as exc:
        return {"ok": False, "detail": type(exc).__name__}
    if raw is None:
        return {"ok": False, "detail": missing}
    age = max(0.0, time.time() - float(raw))
    max_age = settings.CS_WORKER_HEARTBEAT_MAX_AGE.total_seconds()
    if age > max_age:
        return {"ok": False, "detail": f"last heartbeat {age:.0f}s ago"}
    return {"ok": True, "detail": f"last heartbeat {age:.0f}s ago"}


def health_report() -> HealthReport:
    database, redis_state, worker, outbox, inbound = (
        check_database(),
        check_redis(),
        check_celery_worker(),
        check_outbox_delivery(),
        check_inbound_drain(),
    )
    return {
        "ok": database["ok"] and redis_state["ok"] and worker["ok"] and outbox["ok"] and inbound["ok"],
        "database": database,
        "redis": redis_state,
        "celery_worker": worker,
        "outbox_delivery": outbox,
        "inbound_drain": inbound,
    }
