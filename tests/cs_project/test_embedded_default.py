"""In development with DATABASE_URL and REDIS_URL unset, every process shares the embedded PostgreSQL and Redis."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import psycopg
import pytest

from cs_project import embedded_postgres, embedded_redis
from tests.support.processes import BASE_DIR, free_port, http_status, python, running, wait_until

pytestmark = pytest.mark.e2e


def test_the_embedded_default_serves_healthz_across_processes(tmp_path: Path) -> None:
    redis_port, postgres_port, http_port = free_port(), free_port(), free_port()
    env = {key: value for key, value in os.environ.items() if key not in ("DATABASE_URL", "REDIS_URL")} | {
        "DJANGO_DEBUG": "1",
        "CS_VAR_DIR": str(tmp_path),
        "CS_EMBEDDED_REDIS_PORT": str(redis_port),
        "CS_EMBEDDED_POSTGRES_PORT": str(postgres_port),
    }
    try:
        subprocess.run(python("manage.py", "migrate", "-v", "0"), cwd=BASE_DIR, env=env, check=True, timeout=180)
        assert embedded_redis.is_answering(redis_port), "manage.py should have started the embedded Redis"
        with psycopg.connect(embedded_postgres.database_url(postgres_port, tmp_path)) as conn:
            migrated = conn.execute("SELECT count(*) FROM django_migrations WHERE app = 'sessions_app'").fetchone()
        assert migrated is not None
        assert migrated[0] > 0, "manage.py migrate should have run against the embedded PostgreSQL"

        with (
            running(
                python(
                    "-m",
                    "cs_project.asgi_server",
                    "-b",
                    "127.0.0.1",
                    "-p",
                    str(http_port),
                    "cs_project.asgi:application",
                ),
                env=env,
                log=tmp_path / "asgi.log",
            ),
            running(
                python("-m", "celery", "-A", "cs_project", "worker", "-c", "1", "-l", "info"),
                env=env,
                log=tmp_path / "worker.log",
            ),
            running(python("manage.py", "outbox_stream"), env=env, log=tmp_path / "outbox.log"),
            running(python("manage.py", "inbound_stream"), env=env, log=tmp_path / "inbound.log"),
        ):
            wait_until(
                lambda: http_status(f"http://127.0.0.1:{http_port}/healthz") == 200,
                timeout=90,
                what="/healthz: database, embedded Redis, worker, outbox deliverer and inbound drainer healthy",
            )
    finally:
        embedded_postgres.stop(var_dir=tmp_path)
        embedded_redis.stop(var_dir=tmp_path)
    assert not embedded_redis.is_answering(redis_port)
    assert not embedded_postgres.is_answering(postgres_port)
