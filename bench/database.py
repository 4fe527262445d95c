"""Fresh PostgreSQL databases for the scenarios: created empty, dropped at the end, whatever happens."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg import sql

SERVER_URL = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432")
PREFIX = "bench_"
_SAFE_NAME = re.compile(r"^bench_[a-z0-9_]{1,50}$")


def database_url(name: str) -> str:
    return f"{SERVER_URL}/{name}"


def _admin() -> psycopg.Connection[tuple[object, ...]]:
    return psycopg.connect(database_url("postgres"), autocommit=True)


def create_database(name: str) -> str:
    if not _SAFE_NAME.match(name):
        raise ValueError(f"not a bench database name: {name}")
    with _admin() as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return database_url(name)


def drop_database(name: str) -> None:
    if not _SAFE_NAME.match(name):
        raise ValueError(f"not a bench database name: {name}")
    with _admin() as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@contextmanager
def fresh_database(name: str) -> Iterator[str]:
    """An empty database for the ``with`` block; its URL is yielded."""
    url = create_database(name)
    try:
        yield url
    finally:
        drop_database(name)


def drop_run_databases(run_id: str) -> list[str]:
    """Drop whatever a crashed scenario of this run left behind."""
    with _admin() as conn:
        rows = conn.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE %s", (f"{PREFIX}{run_id}\\_%",)
        ).fetchall()
    names = [str(row[0]) for row in rows]
    for name in names:
        drop_database(name)
    return names


def server_version() -> str:
    with _admin() as conn:
        row = conn.execute("SHOW server_version").fetchone()
    return str(row[0]) if row else "?"
