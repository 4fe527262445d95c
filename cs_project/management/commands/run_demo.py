from __future__ import annotations

import importlib.util
import logging
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from cs_project import embedded_postgres, embedded_redis, health
from cs_project.devstack import Interrupted, ProcessGroup, python_module, raise_on_termination
from robots.wfprotocol import AdminClient
from seats.models import Seat

DEMO_ADMIN_SECRET = "123456"  # noqa: S105 - Wildfire's release default, accepted in development only


class Command(BaseCommand):
    help = (
        "Set up and run the whole demo in the foreground: sandbox, CS server, outbox deliverer, inbound drainer,"
        " Celery worker and beat."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--no-sandbox", action="store_true", help="use the IM server configured in WFC_*")
        parser.add_argument(
            "--verbose", action="store_true", help="show every process's whole output, not only warnings and errors"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG:
            # The demo seeds well-known logins and uses the IM server's release admin secret.
            raise CommandError(
                "refusing to start the demo with its default IM admin secret and demo logins while "
                "DJANGO_DEBUG is off; the demo is for development only"
            )
        if not options["verbose"]:
            # This process's own INFO lines repeat what the lines written below say.
            logging.getLogger().setLevel(logging.WARNING)
        port: int = options["port"]
        with_sandbox = not options["no_sandbox"] and importlib.util.find_spec("wfsandbox") is not None
        log_dir = settings.VAR_DIR / "logs"
        self._report_embedded_services()
        call_command("migrate", interactive=False, verbosity=0)
        call_command("compilemessages", ignore_patterns=[".venv/*"], verbosity=0)
        call_command("seed_demo")

        raise_on_termination()
        processes = ProcessGroup(log_dir=log_dir, verbose=options["verbose"], say=self.stdout.write)
        try:
            if with_sandbox:
                processes.start("sandbox", python_module("wfsandbox"))
                self._wait_for_http(f"{settings.WFC_ADMIN_API_URL}/admin/health", "sandbox")
                self._create_seat_accounts()
            if settings.CS_IM_ADMIN_MODE == "app_server":
                processes.start(
                    "appserver",
                    python_module("robots.appserver"),
                    env={
                        "WFC_ADMIN_SECRET": DEMO_ADMIN_SECRET,
                        "REDIS_URL": settings.REDIS_URL,  # the embedded one when REDIS_URL is unset
                        "CS_APP_SERVER_PORT": str(urlsplit(settings.CS_APP_SERVER_URL).port or 8890),
                    },
                )
                self._wait_for_http(f"{settings.CS_APP_SERVER_URL}/healthz", "app server")
            call_command("wfc_setup")
            processes.start(
                "asgi",
                python_module(
                    "cs_project.asgi_server", "-b", "127.0.0.1", "-p", str(port), "cs_project.asgi:application"
                ),
            )
            processes.start("worker", python_module("celery", "-A", "cs_project", "worker", "-l", "info", "-c", "2"))
            processes.start("beat", python_module("celery", "-A", "cs_project", "beat", "-l", "info"))
            processes.start("outbox", [sys.executable, str(settings.BASE_DIR / "manage.py"), "outbox_stream"])
            if settings.CS_INBOUND_DRAIN == "stream":
                processes.start("inbound", [sys.executable, str(settings.BASE_DIR / "manage.py"), "inbound_stream"])
            # Asked directly first: /healthz would log every "not yet" as a 503 error.
            self._wait_for(lambda: health.check_celery_worker()["ok"], "the Celery worker's first heartbeat")
            self._wait_for(lambda: health.check_outbox_delivery()["ok"], "the outbox deliverer's first heartbeat")
            self._wait_for(lambda: health.check_inbound_drain()["ok"], "the inbound drainer's first heartbeat")
            self._wait_for_http(f"http://127.0.0.1:{port}/healthz", "CS server", expect_ok=True)
            self._print_welcome(port, with_sandbox=with_sandbox, log_dir=log_dir)
            while (exited := processes.first_exited()) is None:
                time.sleep(0.5)
            raise CommandError(f"{exited[0]} exited with code {exited[1]}; stopping the demo (see {log_dir})")
        except Interrupted:
            self.stdout.write("\nstopping the demo…")
        finally:
            processes.stop_all()
            if settings.EMBEDDED_POSTGRES:
                try:
                    embedded_postgres.stop(var_dir=settings.VAR_DIR)
                    self.stdout.write("  stopped postgres (embedded)")
                except RuntimeError as exc:
                    self.stderr.write(str(exc))
            if settings.EMBEDDED_REDIS:
                embedded_redis.stop(var_dir=settings.VAR_DIR)
                self.stdout.write("  stopped redis (embedded)")
            self.stdout.write("all demo processes stopped")

    def _report_embedded_services(self) -> None:
        """manage.py has started them already (cs_project.bootstrap); say where they are."""
        if settings.EMBEDDED_POSTGRES:
            self.stdout.write(
                f"  postgres  (embedded) 127.0.0.1:{settings.EMBEDDED_POSTGRES_PORT}, "
                f"data {embedded_postgres.data_dir(settings.VAR_DIR)}"
            )
        if settings.EMBEDDED_REDIS:
            self.stdout.write(f"  redis     (embedded) 127.0.0.1:{settings.EMBEDDED_REDIS_PORT}")

    def _create_seat_accounts(self) -> None:
        """The sandbox's IM accounts for the seeded servicers (demo only: uses the sandbox's secret)."""
        admin = AdminClient(settings.WFC_ADMIN_API_URL, DEMO_ADMIN_SECRET)
        for seat in Seat.objects.exclude(im_user_id=""):
            admin.create_user(user_id=seat.im_user_id, name=seat.im_user_id, display_name=seat.display_name)

    def _wait_for_http(self, url: str, what: str, *, expect_ok: bool = False) -> None:
        def answers() -> bool:
            try:
                response = requests.get(url, timeout=2)
            except requests.RequestException:
                return False
            return not expect_ok or response.status_code == 200

        self._wait_for(answers, f"{what} to answer at {url}")

    def _wait_for(self, condition: Callable[[], bool], what: str, *, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return
            time.sleep(0.2)
        raise CommandError(f"waited {timeout:.0f}s for {what}; see {settings.VAR_DIR / 'logs'}")

    def _print_welcome(self, port: int, *, with_sandbox: bool, log_dir: Path) -> None:
        base = f"http://127.0.0.1:{port}"
        lines = [
            "",
            "客服系统演示已启动 / The customer-service demo is running:",
            f"  servicer console   {base}/console/          servicer1 / servicer1, servicer2 / servicer2",
            f"  supervisor admin   {base}/admin/            supervisor / supervisor",
            f"  health             {base}/healthz",
        ]
        if with_sandbox:
            lines += [
                f"  customer (IM)      {settings.WFC_ROBOT_API_URL}/sandbox/customer",
                f"  servicer IM app    {settings.WFC_ROBOT_API_URL}/sandbox/servicer",
            ]
        lines += [
            f"  logs               {log_dir}/<process>.log (warnings and errors are shown here; --verbose for all)",
            "Press Ctrl-C to stop everything.",
            "",
        ]
        self.stdout.write("\n".join(lines))
