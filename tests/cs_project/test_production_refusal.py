"""With DJANGO_DEBUG off, a missing DATABASE_URL or REDIS_URL stops every entry point, naming the
variable, and nothing embedded is started in its place."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from cs_project import embedded_postgres, embedded_redis
from tests.cs_project.test_deploy_check import PRODUCTION_ENV
from tests.support.processes import BASE_DIR, free_port, python

ENTRY_POINTS = {
    "check --deploy": ("manage.py", "check", "--deploy"),
    "web": ("-m", "cs_project.asgi_server", "-b", "127.0.0.1", "-p", "0", "cs_project.asgi:application"),
    "worker": ("-m", "celery", "-A", "cs_project", "worker", "-c", "1"),
    "beat": ("-m", "celery", "-A", "cs_project", "beat"),
    "management command": ("manage.py", "migrate"),
}


@pytest.mark.parametrize("missing", ["DATABASE_URL", "REDIS_URL"])
@pytest.mark.parametrize("entry_point", list(ENTRY_POINTS))
def test_production_refuses_to_start_without_the_url(entry_point: str, missing: str, tmp_path: Path) -> None:
    postgres_port, redis_port = free_port(), free_port()
    env = {key: value for key, value in PRODUCTION_ENV.items() if key != missing} | {
        "CS_VAR_DIR": str(tmp_path / "var"),
        "CS_EMBEDDED_POSTGRES_PORT": str(postgres_port),
        "CS_EMBEDDED_REDIS_PORT": str(redis_port),
    }
    result = subprocess.run(
        python(*ENTRY_POINTS[entry_point]),
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    assert f"{missing}: is required and not set" in result.stderr
    assert not embedded_postgres.is_answering(postgres_port)
    assert not embedded_redis.is_answering(redis_port)
    assert not (tmp_path / "var" / "postgres").exists()
