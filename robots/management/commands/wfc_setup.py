from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from robots.services import RobotSetupError, cs_robot_setup
from robots.wfprotocol import WfcError


class Command(BaseCommand):
    help = "Create or update the CS Robot on the IM server with our callback, and verify it (idempotent)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--rotate-token", action="store_true", help="issue a new callback token")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            result = cs_robot_setup(rotate_token=options["rotate_token"])
        except (WfcError, RobotSetupError) as exc:
            raise CommandError(f"IM server setup failed: {type(exc).__name__}: {exc}") from exc
        action = "created" if result.created_on_im else "updated"
        rotated = " with a new callback token" if result.token_rotated else ""
        self.stdout.write(f"CS Robot {result.robot_id} {action}{rotated}; callback {result.callback_url} verified")
