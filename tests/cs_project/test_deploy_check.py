from __future__ import annotations

import subprocess
import sys

from django.conf import settings

PRODUCTION_ENV = {
    "PATH": "/usr/bin:/bin",
    "DJANGO_DEBUG": "0",
    "DJANGO_SECRET_KEY": "x7!k2#production-like-secret-key-0123456789abcdefghijklmnop",
    "DJANGO_ALLOWED_HOSTS": "cs.example.com",
    "CS_PUBLIC_URL": "https://cs.example.com",
    "WFC_ADMIN_SECRET": "a-real-admin-secret",
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/wildfire_cs",
    "REDIS_URL": "redis://127.0.0.1:6379/5",
}


def test_the_production_profile_passes_check_deploy_without_warnings() -> None:
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=settings.BASE_DIR,
        env=PRODUCTION_ENV,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_the_demo_refuses_to_start_with_default_secrets_when_debug_is_off() -> None:
    result = subprocess.run(
        [sys.executable, "manage.py", "run_demo"],
        cwd=settings.BASE_DIR,
        env={**PRODUCTION_ENV, "WFC_ADMIN_SECRET": "123456"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode != 0
    assert "refusing to start the demo" in result.stderr
