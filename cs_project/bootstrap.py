"""What the entry points (manage.py, ASGI, Celery worker and beat) do before serving."""

from __future__ import annotations

import os
from pathlib import Path

from cs_project import embedded_redis
from cs_project.env import env_int, env_str

BASE_DIR = Path(__file__).resolve().parent.parent


def var_dir() -> Path:
    """Where local state lives: SQLite file, embedded Redis, beat schedule, media."""
    return Path(env_str("CS_VAR_DIR", default=str(BASE_DIR / "var")))


def embedded_redis_port() -> int:
    return env_int("CS_EMBEDDED_REDIS_PORT", default=embedded_redis.DEFAULT_PORT, minimum=1, maximum=65535)


def uses_embedded_redis() -> bool:
    return env_str("REDIS_URL", default="") == ""


def prepare_environment() -> None:
    """Point at our settings and, when REDIS_URL is unset, make sure the embedded Redis runs.

    Called by entry points only, never on import, so importing settings has no side effect.
    """
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cs_project.settings")
    if uses_embedded_redis():
        embedded_redis.ensure_started(var_dir=var_dir(), port=embedded_redis_port())
