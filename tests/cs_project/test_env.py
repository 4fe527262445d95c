from __future__ import annotations

import subprocess
import sys

import pytest
from django.conf import settings
from django.db import connection

from cs_project.env import (
    EnvError,
    env_bool,
    env_choice,
    env_database,
    env_im_id,
    env_int,
    env_list,
    env_rate,
    env_str,
    env_time_zone,
    env_url,
)


def test_it_reads_booleans_in_the_usual_spellings() -> None:
    assert env_bool("X", default=False, environ={"X": "yes"}) is True
    assert env_bool("X", default=True, environ={"X": "0"}) is False
    assert env_bool("X", default=True, environ={}) is True


@pytest.mark.parametrize("value", ["maybe", "2", "tru"])
def test_it_rejects_a_malformed_boolean_naming_the_variable(value: str) -> None:
    with pytest.raises(EnvError, match=r"^DJANGO_DEBUG: "):
        env_bool("DJANGO_DEBUG", default=False, environ={"DJANGO_DEBUG": value})


def test_it_rejects_a_non_number_and_numbers_out_of_range() -> None:
    with pytest.raises(EnvError, match="WFC_TIMEOUT_SECONDS: expected a whole number"):
        env_int("WFC_TIMEOUT_SECONDS", default=5, environ={"WFC_TIMEOUT_SECONDS": "5s"})
    with pytest.raises(EnvError, match="at least 1"):
        env_int("N", default=5, minimum=1, environ={"N": "0"})
    with pytest.raises(EnvError, match="at most 9"):
        env_int("N", default=5, maximum=9, environ={"N": "10"})
    assert env_int("N", default=5, environ={"N": " 42 "}) == 42


def test_it_requires_a_value_without_default() -> None:
    with pytest.raises(EnvError, match="WFC_ADMIN_SECRET: is required"):
        env_str("WFC_ADMIN_SECRET", environ={})
    with pytest.raises(EnvError, match="is required"):
        env_str("WFC_ADMIN_SECRET", environ={"WFC_ADMIN_SECRET": "   "})


def test_it_reads_request_rates_in_drfs_format() -> None:
    assert env_rate("CS_THROTTLE_USER", default="600/min", environ={}) == "600/min"
    for rate in ("5/s", "30/min", "100/hour", "1000/day", "7/m"):
        assert env_rate("R", default="1/s", environ={"R": rate}) == rate


@pytest.mark.parametrize("value", ["30", "30/minutes", "30 / min", "-1/min", "0/min", "1.5/s", "min/30"])
def test_it_rejects_a_malformed_rate_naming_the_variable(value: str) -> None:
    with pytest.raises(EnvError, match=r"^CS_THROTTLE_RATING_FORM: "):
        env_rate("CS_THROTTLE_RATING_FORM", default="30/min", environ={"CS_THROTTLE_RATING_FORM": value})


def test_it_splits_lists_and_refuses_empty_items() -> None:
    assert env_list("H", environ={"H": "a.example, b.example"}) == ["a.example", "b.example"]
    with pytest.raises(EnvError, match="DJANGO_ALLOWED_HOSTS: has an empty item"):
        env_list("DJANGO_ALLOWED_HOSTS", environ={"DJANGO_ALLOWED_HOSTS": "a,,b"})


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("cs.example.com", "must start with"),
        ("ftp://cs.example.com", "must start with"),
        ("http://", "has no host"),
        ("http://cs.example.com:99999", "not a valid URL"),
    ],
)
def test_it_rejects_malformed_urls(value: str, problem: str) -> None:
    with pytest.raises(EnvError, match=f"CS_PUBLIC_URL: .*{problem}"):
        env_url("CS_PUBLIC_URL", environ={"CS_PUBLIC_URL": value})


def test_it_strips_the_trailing_slash_of_urls() -> None:
    assert env_url("U", environ={"U": "https://cs.example.com/"}) == "https://cs.example.com"


def test_it_pools_postgres_connections() -> None:
    pg = env_database("DATABASE_URL", default="", environ={"DATABASE_URL": "postgres://u:p@db:5432/cs"})
    assert pg["ENGINE"] == "django.db.backends.postgresql"
    assert pg["NAME"] == "cs"
    assert pg["CONN_MAX_AGE"] == 0
    assert pg["OPTIONS"]["pool"]["max_size"] == 10


@pytest.mark.parametrize("url", ["mysql://u@h/db", "sqlite:////tmp/x.sqlite3"])
def test_it_rejects_every_database_but_postgres(url: str) -> None:
    with pytest.raises(EnvError, match="DATABASE_URL: must start with one of postgres, postgresql://"):
        env_database("DATABASE_URL", default="", environ={"DATABASE_URL": url})


def test_it_rejects_a_database_url_without_a_database_name() -> None:
    with pytest.raises(EnvError, match="DATABASE_URL: names no database"):
        env_database("DATABASE_URL", default="", environ={"DATABASE_URL": "postgres://u@db:5432"})


def test_a_database_url_is_required_when_there_is_no_default() -> None:
    with pytest.raises(EnvError, match="DATABASE_URL: is required and not set"):
        env_database("DATABASE_URL", default=None, environ={})


def test_an_error_about_a_url_never_repeats_its_password() -> None:
    with pytest.raises(EnvError) as refused:
        env_database("DATABASE_URL", default="", environ={"DATABASE_URL": "mysql://cs:s3cret-pw@db/cs"})
    assert "s3cret-pw" not in str(refused.value)
    assert "mysql://cs:***@db/cs" in str(refused.value)


def _import_settings(**env: str) -> subprocess.CompletedProcess[str]:
    """Load the real settings module in a fresh interpreter with exactly this environment."""
    return subprocess.run(
        [sys.executable, "-c", "import cs_project.settings"],
        env={"PATH": "/usr/bin:/bin", "REDIS_URL": "redis://127.0.0.1:6379/5", **env},
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_settings_stop_start_up_on_a_malformed_variable() -> None:
    result = _import_settings(DJANGO_DEBUG="1", WFC_ROBOT_API_URL="not-a-url")
    assert result.returncode != 0
    assert "WFC_ROBOT_API_URL: must start with" in result.stderr


def test_settings_refuse_a_history_command_longer_than_32_characters() -> None:
    result = _import_settings(DJANGO_DEBUG="1", CS_HISTORY_COMMAND="历史" * 17)
    assert result.returncode != 0
    assert "CS_HISTORY_COMMAND: must be at most 32 characters" in result.stderr


def test_settings_have_no_secret_key_default_outside_development() -> None:
    result = _import_settings(DJANGO_DEBUG="0", DJANGO_ALLOWED_HOSTS="cs.example.com")
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY: is required" in result.stderr


def test_settings_refuse_a_weak_secret_key_in_production() -> None:
    result = _import_settings(DJANGO_DEBUG="0", DJANGO_SECRET_KEY="short", DJANGO_ALLOWED_HOSTS="cs.example.com")
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY: must be a random string" in result.stderr


def test_settings_load_in_development_with_nothing_set() -> None:
    assert _import_settings(DJANGO_DEBUG="1").returncode == 0


@pytest.mark.parametrize("value", ["Mars/Olympus", "Asia/Shang hai", "../etc/passwd"])
def test_it_rejects_an_unknown_time_zone_naming_the_variable(value: str) -> None:
    with pytest.raises(EnvError, match=r"^CS_TIME_ZONE: not a known time zone"):
        env_time_zone("CS_TIME_ZONE", default="Asia/Shanghai", environ={"CS_TIME_ZONE": value})
    assert env_time_zone("CS_TIME_ZONE", default="Asia/Shanghai", environ={}) == "Asia/Shanghai"
    assert env_time_zone("CS_TIME_ZONE", default="UTC", environ={"CS_TIME_ZONE": "Europe/Berlin"}) == "Europe/Berlin"


@pytest.mark.parametrize("value", ["cs/robot", "cs robot", "cs?robot", "x" * 65])
def test_it_rejects_an_im_id_that_would_break_the_callback_url(value: str) -> None:
    with pytest.raises(EnvError, match=r"^CS_ROBOT_ID: 1 to 64 letters"):
        env_im_id("CS_ROBOT_ID", default="cs_robot", environ={"CS_ROBOT_ID": value})
    assert env_im_id("CS_ROBOT_ID", default="cs_robot", environ={"CS_ROBOT_ID": "shop-cs.1"}) == "shop-cs.1"


def test_it_rejects_a_choice_outside_the_list() -> None:
    with pytest.raises(EnvError, match=r"^CS_IM_ADMIN_MODE: must be one of direct, app_server"):
        env_choice(
            "CS_IM_ADMIN_MODE", choices=("direct", "app_server"), default="direct", environ={"CS_IM_ADMIN_MODE": "x"}
        )


def test_it_sets_statement_and_lock_timeouts_when_asked() -> None:
    url = {"DATABASE_URL": "postgres://u:p@db:5432/cs"}
    pg = env_database("DATABASE_URL", default="", environ=url, statement_timeout_ms=60_000, lock_timeout_ms=0)
    assert pg["OPTIONS"]["options"] == "-c statement_timeout=60000"
    assert "options" not in env_database("DATABASE_URL", default="", environ=url)["OPTIONS"]


@pytest.mark.django_db
def test_every_connection_of_the_product_has_them() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        statement = cursor.fetchone()
        cursor.execute("SHOW lock_timeout")
        lock = cursor.fetchone()
    assert (statement, lock) == (("1min",), ("15s",))
