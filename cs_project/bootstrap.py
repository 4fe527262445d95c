"""What the entry points (manage.py, ASGI, Celery worker and beat) do before serving.

In development (``DJANGO_DEBUG`` on) an unset ``DATABASE_URL`` or ``REDIS_URL`` means the embedded
PostgreSQL or Redis under ``CS_VAR_DIR``; outside development nothing embedded ever starts and the
settings refuse to load without both URLs.
"""

from __future__ import annotations

import os
from pathlib import Path

from cs_project import embedded_postgres, embedded_redis
from cs_project.env import env_bool, env_int, env_str

BASE_DIR = Path(__file__).resolve().parent.parent


def var_dir() -> Path:
    """Where local state lives: the embedded PostgreSQL and Redis, logs, beat schedule, media."""
    return Path(env_str("CS_VAR_DIR", default=str(BASE_DIR / "var")))


def debug() -> bool:
    return env_bool("DJANGO_DEBUG", default=False)


def embedded_redis_port() -> int:
    return env_int("CS_EMBEDDED_REDIS_PORT", default=embedded_redis.DEFAULT_PORT, minimum=1, maximum=65535)


def embedded_postgres_port() -> int:
    return env_int("CS_EMBEDDED_POSTGRES_PORT", default=embedded_postgres.DEFAULT_PORT, minimum=1, maximum=65535)


def uses_embedded_redis() -> bool:
    return debug() and env_str("REDIS_URL", default="") == ""


def uses_embedded_postgres() -> bool:
    return debug() and env_str("DATABASE_URL", default="") == ""


def prepare_environment() -> None:
    """Point at our settings and, in development with a URL unset, make sure the embedded server runs.

    Called by entry points only, never on import, so importing settings has no side effect.
    """
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cs_project.settings")
    if uses_embedded_postgres():
        embedded_postgres.ensure_started(var_dir=var_dir(), port=embedded_postgres_port())
    if uses_embedded_redis():
        embedded_redis.ensure_started(var_dir=var_dir(), port=embedded_redis_port())
