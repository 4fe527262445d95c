"""Strict parsers for configuration read from the environment.

Every setting of the project comes through one of these functions. A malformed value stops
start-up with an ``ImproperlyConfigured`` error that names the variable, so a typo in a
deployment never turns silently into a default.
"""

from __future__ import annotations

import os
import re
import zoneinfo
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})

Environ = Mapping[str, str]


class EnvError(ImproperlyConfigured):
    """A variable is missing or malformed; the message always names it."""

    def __init__(self, name: str, problem: str) -> None:
        self.name = name
        super().__init__(f"{name}: {problem}")


def _raw(name: str, environ: Environ | None) -> str | None:
    value = (os.environ if environ is None else environ).get(name)
    if value is None or value.strip() == "":
        return None
    return value.strip()


def env_str(name: str, *, default: str | None = None, environ: Environ | None = None) -> str:
    value = _raw(name, environ)
    if value is None:
        if default is None:
            raise EnvError(name, "is required and not set")
        return default
    return value


def env_bool(name: str, *, default: bool, environ: Environ | None = None) -> bool:
    value = _raw(name, environ)
    if value is None:
        return default
    lowered = value.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise EnvError(name, f"expected one of 1/0, true/false, yes/no, on/off, got {value!r}")


def env_choice(name: str, *, choices: Sequence[str], default: str, environ: Environ | None = None) -> str:
    value = env_str(name, default=default, environ=environ)
    if value not in choices:
        raise EnvError(name, f"must be one of {', '.join(choices)}, got {value!r}")
    return value


def env_time_zone(name: str, *, default: str, environ: Environ | None = None) -> str:
    """An IANA time zone name, e.g. ``Asia/Shanghai``."""
    value = env_str(name, default=default, environ=environ)
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise EnvError(name, f"not a known time zone (an IANA name such as Asia/Shanghai), got {value!r}") from None
    return value


_IM_ID = re.compile(r"[A-Za-z0-9_.\-]{1,64}")


def env_im_id(name: str, *, default: str, environ: Environ | None = None) -> str:
    """A user or robot id on the IM server; it travels in URL paths, so letters, digits, ``_.-`` only."""
    value = env_str(name, default=default, environ=environ)
    if not _IM_ID.fullmatch(value):
        raise EnvError(name, f"1 to 64 letters, digits, '_', '.' or '-', got {value!r}")
    return value


def env_int(
    name: str,
    *,
    default: int,
    minimum: int | None = None,
    maximum: int | None = None,
    environ: Environ | None = None,
) -> int:
    value = _raw(name, environ)
    if value is None:
        return default
    try:
        number = int(value, 10)
    except ValueError:
        raise EnvError(name, f"expected a whole number, got {value!r}") from None
    if minimum is not None and number < minimum:
        raise EnvError(name, f"must be at least {minimum}, got {number}")
    if maximum is not None and number > maximum:
        raise EnvError(name, f"must be at most {maximum}, got {number}")
    return number


_RATE = re.compile(r"(?P<count>[0-9]+)/(?P<period>s|sec|second|m|min|minute|h|hour|d|day)")


def env_rate(name: str, *, default: str, environ: Environ | None = None) -> str:
    """A request rate in DRF's format, ``<count>/<period>``: ``30/min``, ``5/s``, ``1000/day``."""
    value = env_str(name, default=default, environ=environ)
    match = _RATE.fullmatch(value)
    if match is None:
        raise EnvError(name, f"expected a rate such as 30/min (periods: s, min, hour, day), got {value!r}")
    if int(match["count"]) < 1:
        raise EnvError(name, f"must allow at least 1 request, got {value!r}")
    return value


def env_list(name: str, *, default: Sequence[str] | None = None, environ: Environ | None = None) -> list[str]:
    """A comma-separated list; empty items (``a,,b``) are a mistake, not a wish."""
    value = _raw(name, environ)
    if value is None:
        if default is None:
            raise EnvError(name, "is required and not set (a comma-separated list)")
        return list(default)
    items = [item.strip() for item in value.split(",")]
    if any(item == "" for item in items):
        raise EnvError(name, f"has an empty item in {value!r}")
    return items


def env_url(
    name: str,
    *,
    default: str | None = None,
    schemes: Sequence[str] = ("http", "https"),
    environ: Environ | None = None,
) -> str:
    """An absolute URL with one of ``schemes`` and a host; returned without a trailing slash."""
    value = env_str(name, default=default, environ=environ)
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError as exc:
        raise EnvError(name, f"is not a valid URL: {exc}") from None
    if parts.scheme not in schemes:
        raise EnvError(name, f"must start with one of {', '.join(schemes)}://, got {_without_password(value)!r}")
    if not parts.hostname and parts.scheme != "unix":
        raise EnvError(name, f"has no host: {_without_password(value)!r}")
    return value.rstrip("/")


def _without_password(url: str) -> str:
    """The URL as it may appear in an error message: a password never reaches a log."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    return parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@", 1)).geturl()


def env_database(
    name: str,
    *,
    default: str | None,
    environ: Environ | None = None,
    pool_max_size: int = 10,
    statement_timeout_ms: int = 0,
    lock_timeout_ms: int = 0,
) -> dict[str, Any]:
    """Django's DATABASES entry from a PostgreSQL URL, the only engine the product supports.

    It gets psycopg's connection pool: under ASGI, Django closes its persistent connection at
    the end of each request, so without a pool every request would pay for a new connection
    (see docs/benchmarks.md). Non-zero timeouts are set on every connection: a statement or a
    lock wait that runs away is cancelled with an error instead of holding a worker forever.
    """
    url = env_url(name, default=default, schemes=("postgres", "postgresql"), environ=environ)
    try:
        config: dict[str, Any] = dict(dj_database_url.parse(url))
    except ValueError as exc:
        raise EnvError(name, f"is not a valid database URL: {exc}") from None
    if not config.get("NAME"):
        raise EnvError(name, f"names no database: {_without_password(url)!r}")
    config["CONN_MAX_AGE"] = 0  # the pool holds connections; Django must not
    config["OPTIONS"] = {"pool": {"min_size": 1, "max_size": pool_max_size, "timeout": 10}}
    limits = [
        f"-c {key}={value}"
        for key, value in (("statement_timeout", statement_timeout_ms), ("lock_timeout", lock_timeout_ms))
        if value
    ]
    if limits:
        config["OPTIONS"]["options"] = " ".join(limits)
    return config
