"""The demo's embedded PostgreSQL: the wheel's real server, initialised once, kept across restarts,
run as a separate system user under root and as the caller otherwise."""

from __future__ import annotations

import os
import pwd
import stat
import subprocess
import sys
import sysconfig
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psutil
import psycopg
import pytest

from cs_project import embedded_postgres
from tests.support.processes import BASE_DIR, free_port

pytestmark = pytest.mark.e2e


@pytest.fixture
def var_dir(tmp_path: Path) -> Iterator[Path]:
    directory = tmp_path / "var"
    yield directory
    embedded_postgres.stop(var_dir=directory)


def _server_owner(var_dir: Path) -> str:
    pid = int((embedded_postgres.data_dir(var_dir) / "postmaster.pid").read_text().split()[0])
    return str(psutil.Process(pid).username())


def test_it_initialises_serves_postgres_18_and_keeps_its_data_across_a_restart(var_dir: Path) -> None:
    port = free_port()
    assert embedded_postgres.ensure_started(var_dir=var_dir, port=port) is True
    assert embedded_postgres.ensure_started(var_dir=var_dir, port=port) is False  # already answering
    with psycopg.connect(embedded_postgres.database_url(port, var_dir), autocommit=True) as conn:
        version = conn.execute("SHOW server_version").fetchone()
        assert version is not None
        assert version[0].startswith("18.")
        conn.execute("CREATE TABLE kept (note text)")
        conn.execute("INSERT INTO kept VALUES ('survives a restart')")
    if os.geteuid() == 0:
        # PostgreSQL refuses to run as root: the wheel's own system user runs it.
        assert _server_owner(var_dir) == embedded_postgres.SYSTEM_USER
    # Not open to every local user: the superuser needs the password, kept 0600 for the demo.
    assert stat.S_IMODE(embedded_postgres.password_file(var_dir).stat().st_mode) == 0o600
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(host="127.0.0.1", port=port, user="postgres", dbname="postgres", password="guess")
    with pytest.raises(psycopg.OperationalError, match="password"):
        psycopg.connect(host="127.0.0.1", port=port, user="postgres", dbname="postgres")

    embedded_postgres.stop(var_dir=var_dir)
    assert not embedded_postgres.is_answering(port)

    assert embedded_postgres.ensure_started(var_dir=var_dir, port=port) is True
    with psycopg.connect(embedded_postgres.database_url(port, var_dir)) as conn:
        assert conn.execute("SELECT note FROM kept").fetchall() == [("survives a restart",)]


def test_it_listens_on_loopback_only_and_leaves_no_unix_socket(var_dir: Path) -> None:
    port = free_port()
    embedded_postgres.ensure_started(var_dir=var_dir, port=port)
    with psycopg.connect(embedded_postgres.database_url(port, var_dir)) as conn:
        settings: dict[str, str] = dict(
            conn.execute(
                "SELECT name, setting FROM pg_settings WHERE name IN ('listen_addresses', 'unix_socket_directories')"
            ).fetchall()
        )
    assert settings == {"listen_addresses": "127.0.0.1", "unix_socket_directories": ""}


def test_it_runs_as_a_normal_user_too() -> None:
    """As a user who is not root, the server runs as that user (no system user is involved).

    Run as root (as here and in CI), the check is made by a child process running as ``nobody``,
    with the machine's Python 3.11 and this venv's packages.
    """
    if os.geteuid() != 0:
        user = pwd.getpwuid(os.geteuid())
        interpreter = [sys.executable]
    else:
        user = pwd.getpwnam("nobody")
        interpreter = ["/usr/bin/python3.11"]
        assert Path(interpreter[0]).exists(), "Debian's python3.11 runs the child as nobody"
        # What the root path does for the wheel's binaries, for the code and packages the child imports.
        for path in (BASE_DIR / "cs_project", Path(sysconfig.get_paths()["purelib"]) / "psycopg"):
            embedded_postgres.allow_traversal(path / "x")
    with tempfile.TemporaryDirectory(prefix="cs-pg-user-") as scratch:
        os.chown(scratch, user.pw_uid, user.pw_gid)
        var_dir, port = Path(scratch) / "var", free_port()
        script = (
            "import os, sys\n"
            "from pathlib import Path\n"
            "from cs_project import embedded_postgres as pg\n"
            "import psycopg\n"
            "var, port = Path(sys.argv[1]), int(sys.argv[2])\n"
            "assert pg.ensure_started(var_dir=var, port=port)\n"
            "with psycopg.connect(pg.database_url(port, var)) as conn:\n"
            "    print(conn.execute('SELECT current_database()').fetchone()[0])\n"
            "pid = int((pg.data_dir(var) / 'postmaster.pid').read_text().split()[0])\n"
            "print(os.stat(f'/proc/{pid}').st_uid == os.geteuid())\n"
            "pg.stop(var_dir=var)\n"
            "print(pg.is_answering(port))\n"
        )
        result = subprocess.run(
            [*interpreter, "-c", script, str(var_dir), str(port)],
            user=user.pw_uid,
            group=user.pw_gid,
            extra_groups=[],
            cwd=scratch,
            env={
                "PATH": "/usr/bin:/bin",
                "HOME": scratch,
                "PYTHONPATH": os.pathsep.join([str(BASE_DIR), sysconfig.get_paths()["purelib"]]),
            },
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [embedded_postgres.DATABASE, "True", "False"]
