"""``python -m wfsandbox``: options and environment, refusal of bad values, logging, clean shutdown."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from tests.support.processes import BASE_DIR, free_port, wait_until
from tests.support.sandbox import Sandbox, signed_headers
from wfsandbox.config import ConfigError, Settings, parse_settings


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("WFS_")}
    return subprocess.run(
        [sys.executable, "-m", "wfsandbox", *args],
        cwd=BASE_DIR,
        env={**clean, **(env or {})},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


@pytest.mark.parametrize(
    ("args", "env", "named"),
    [
        (["--robot-port", "abc"], {}, "--robot-port"),
        (["--admin-port", "70000"], {}, "--admin-port"),
        (["--robot-rate-limit", "0"], {}, "--robot-rate-limit"),
        (["--admin-rate-limit", "-5"], {}, "--admin-rate-limit"),
        (["--admin-secret", ""], {}, "--admin-secret"),
        ([], {"WFS_ROBOT_PORT": "eighty"}, "WFS_ROBOT_PORT"),
        ([], {"WFS_ADMIN_RATE_LIMIT": "1e4"}, "WFS_ADMIN_RATE_LIMIT"),
        ([], {"WFS_DB": " "}, "WFS_DB"),
        ([], {"WFS_ADMIN_NO_CHECK_TIME": "maybe"}, "WFS_ADMIN_NO_CHECK_TIME"),
        (["--robot-port", "9000", "--admin-port", "9000"], {}, "--robot-port and --admin-port"),
    ],
)
def test_it_refuses_a_malformed_value_naming_the_option(args: list[str], env: dict[str, str], named: str):
    result = run_cli(*args, env=env)
    assert result.returncode == 2
    assert named in result.stderr
    assert "Traceback" not in result.stderr


def test_help_lists_every_option():
    result = run_cli("--help")
    assert result.returncode == 0
    for option in ("--host", "--robot-port", "--admin-port", "--db", "--admin-secret", "--robot-rate-limit",
                   "--admin-rate-limit", "--admin-no-check-time", "--disable-stranger-chat"):  # fmt: skip
        assert option in result.stdout


def test_the_defaults_are_the_reference_ones():
    settings = parse_settings([], {})
    assert settings == Settings()
    assert (settings.robot_port, settings.admin_port, settings.admin_secret) == (8880, 18080, "123456")
    assert (settings.robot_rate_limit, settings.admin_rate_limit) == (1000, 10000)
    assert settings.db_path == Path("var/sandbox.sqlite3")
    assert settings.allow_stranger_chat_list == ("admin", "FireRobot", "wfc_file_transfer")
    assert not settings.admin_no_check_time
    assert not settings.disable_stranger_chat


def test_the_command_line_wins_over_the_environment():
    env = {"WFS_ROBOT_PORT": "1111", "WFS_ADMIN_PORT": "2222", "WFS_ADMIN_SECRET": "env", "WFS_DB": "var/env.sqlite3"}
    settings = parse_settings(["--robot-port", "3333", "--admin-no-check-time"], env)
    assert (settings.robot_port, settings.admin_port, settings.admin_secret) == (3333, 2222, "env")
    assert settings.db_path == Path("var/env.sqlite3")
    assert settings.admin_no_check_time


def test_a_bad_environment_value_is_a_config_error():
    with pytest.raises(ConfigError, match="WFS_ROBOT_RATE_LIMIT"):
        parse_settings([], {"WFS_ROBOT_RATE_LIMIT": "lots"})


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_it_shuts_down_cleanly_on_a_signal(tmp_path: Path, signum: signal.Signals):
    robot_port, admin_port = free_port(), free_port()
    log = tmp_path / "sandbox.log"
    clean = {k: v for k, v in os.environ.items() if not k.startswith("WFS_")}
    env = {
        **clean,
        "WFS_ROBOT_PORT": str(robot_port),
        "WFS_ADMIN_PORT": str(admin_port),
        "WFS_DB": str(tmp_path / "db"),
    }
    with log.open("wb") as out:
        child = subprocess.Popen([sys.executable, "-m", "wfsandbox"], cwd=BASE_DIR, env=env, stdout=out, stderr=out)
    try:

        def up() -> bool:
            try:
                return requests.get(f"http://127.0.0.1:{admin_port}/admin/health", timeout=1).status_code == 200
            except requests.RequestException:
                return False

        wait_until(up, timeout=20, what="the sandbox")
        child.send_signal(signum)
        assert child.wait(timeout=10) == 0
    finally:
        if child.poll() is None:
            child.kill()
    assert "wfsandbox stopped" in log.read_text()


def test_it_logs_one_line_per_request_without_secrets(sandbox: Sandbox):
    headers = signed_headers(sandbox.admin_secret)
    requests.post(f"{sandbox.admin_url}/admin/user/get_info?trace=1", json={"userId": "x"}, headers=headers, timeout=5)
    wait_until(lambda: "admin POST /admin/user/get_info 200 code=253" in sandbox.log_path.read_text(), timeout=5,
               what="the access log line")  # fmt: skip
    text = sandbox.log_path.read_text()
    assert headers["sign"] not in text
    assert sandbox.admin_secret not in text
    assert "trace=1" not in text
