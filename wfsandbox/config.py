"""Start-up settings from the command line and ``WFS_*`` environment variables (the command line wins).

A malformed value stops start-up with a message naming the option or variable it came from.
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")

DEFAULT_ALLOW_STRANGER_CHAT_LIST = ("admin", "FireRobot", "wfc_file_transfer")
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


class ConfigError(ValueError):
    """A setting that cannot be used; the message names where it came from."""


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    robot_port: int = 8880
    admin_port: int = 18080
    db_path: Path = Path("var/sandbox.sqlite3")
    admin_secret: str = "123456"  # noqa: S105 - the release default of http.admin.secret_key (§1)
    robot_rate_limit: int = 1000
    admin_rate_limit: int = 10000
    admin_no_check_time: bool = False
    disable_stranger_chat: bool = False
    callback_with_sender_info: bool = False
    allow_stranger_chat_list: tuple[str, ...] = DEFAULT_ALLOW_STRANGER_CHAT_LIST
    log_level: str = "INFO"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m wfsandbox",
        description="A stand-in for a Wildfire IM server: robot API, admin API and robot callbacks.",
    )
    add = parser.add_argument
    add("--host", help="address to listen on (WFS_HOST, default 127.0.0.1)")
    add("--robot-port", help="robot API and sandbox pages, the IM server's port 80 (WFS_ROBOT_PORT, default 8880)")
    add("--admin-port", help="admin API, the IM server's port 18080 (WFS_ADMIN_PORT, default 18080)")
    add("--db", help="SQLite file (WFS_DB, default var/sandbox.sqlite3)")
    add("--admin-secret", help="http.admin.secret_key (WFS_ADMIN_SECRET, default 123456)")
    add("--robot-rate-limit", help="http.robot.rate_limit per robot (WFS_ROBOT_RATE_LIMIT, default 1000)")
    add("--admin-rate-limit", help="http.admin.rate_limit, shared (WFS_ADMIN_RATE_LIMIT, default 10000)")
    add("--admin-no-check-time", action="store_true", default=None, help="http.admin.no_check_time true")
    add("--disable-stranger-chat", action="store_true", default=None, help="message.disable_stranger_chat true")
    add("--allow-stranger-chat-list", help="message.allow_stranger_chat_list, comma-separated")
    add(
        "--callback-with-sender-info",
        action="store_true",
        default=None,
        help="robot.callback_with_sender_info true (newer servers): callbacks carry senderUserInfo",
    )
    add("--log-level", help="DEBUG, INFO, WARNING or ERROR (WFS_LOG_LEVEL, default INFO)")
    return parser


def parse_settings(argv: Sequence[str], environ: Mapping[str, str]) -> Settings:
    """Settings from ``argv`` (without the program name) and ``environ``; ``ConfigError`` if one is bad.

    ``argparse`` itself exits with status 2 on an unknown option, like any CLI.
    """
    args = _parser().parse_args(list(argv))
    defaults = Settings()

    def pick(option: str, env: str, convert: Callable[[str], T], default: T) -> T:
        cli_value: str | None = getattr(args, option.removeprefix("--").replace("-", "_"))
        if cli_value is not None:
            source, raw = option, cli_value
        elif env in environ:
            source, raw = env, environ[env]
        else:
            return default
        try:
            return convert(raw)
        except ValueError as exc:
            raise ConfigError(f"{source}: {exc}") from None

    def flag(option: str, env: str) -> bool:
        if getattr(args, option.removeprefix("--").replace("-", "_")):
            return True
        return pick(option, env, _boolean, default=False)

    settings = Settings(
        host=pick("--host", "WFS_HOST", _host, defaults.host),
        robot_port=pick("--robot-port", "WFS_ROBOT_PORT", _port, defaults.robot_port),
        admin_port=pick("--admin-port", "WFS_ADMIN_PORT", _port, defaults.admin_port),
        db_path=pick("--db", "WFS_DB", _path, defaults.db_path),
        admin_secret=pick("--admin-secret", "WFS_ADMIN_SECRET", _secret, defaults.admin_secret),
        robot_rate_limit=pick("--robot-rate-limit", "WFS_ROBOT_RATE_LIMIT", positive_int, defaults.robot_rate_limit),
        admin_rate_limit=pick("--admin-rate-limit", "WFS_ADMIN_RATE_LIMIT", positive_int, defaults.admin_rate_limit),
        admin_no_check_time=flag("--admin-no-check-time", "WFS_ADMIN_NO_CHECK_TIME"),
        disable_stranger_chat=flag("--disable-stranger-chat", "WFS_DISABLE_STRANGER_CHAT"),
        callback_with_sender_info=flag("--callback-with-sender-info", "WFS_CALLBACK_WITH_SENDER_INFO"),
        allow_stranger_chat_list=pick(
            "--allow-stranger-chat-list",
            "WFS_ALLOW_STRANGER_CHAT_LIST",
            _uid_list,
            defaults.allow_stranger_chat_list,
        ),
        log_level=pick("--log-level", "WFS_LOG_LEVEL", _log_level, defaults.log_level),
    )
    if settings.robot_port == settings.admin_port:
        raise ConfigError(f"--robot-port and --admin-port: both are {settings.robot_port}; they must differ")
    return settings


def positive_int(raw: str) -> int:
    text = raw.strip()
    if not text.isdigit() or int(text) <= 0:
        raise ValueError(f"{raw!r} is not a positive integer")
    return int(text)


def _port(raw: str) -> int:
    text = raw.strip()
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise ValueError(f"{raw!r} is not a port number (1-65535)")
    return int(text)


def _host(raw: str) -> str:
    text = raw.strip()
    if not text or any(ch.isspace() for ch in text):
        raise ValueError(f"{raw!r} is not a host name or address")
    return text


def _path(raw: str) -> Path:
    if not raw.strip():
        raise ValueError("the path is empty")
    return Path(raw)


def _secret(raw: str) -> str:
    if not raw:
        raise ValueError("the secret is empty")
    return raw


def _boolean(raw: str) -> bool:
    text = raw.strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f"{raw!r} is not a boolean (use 1/0, true/false)")


def _uid_list(raw: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in raw.split(",") if part.strip())


def _log_level(raw: str) -> str:
    level = raw.strip().upper()
    if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
        raise ValueError(f"{raw!r} is not a log level (DEBUG, INFO, WARNING, ERROR, CRITICAL)")
    return level


def configure_logging(level: str) -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s %(message)s")
