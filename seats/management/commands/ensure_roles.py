from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from seats.services import OPS_GROUP, SUPERVISOR_GROUP, ops_group_ensure, supervisor_group_ensure


class Command(BaseCommand):
    help = (
        "Give the supervisors' group and the ops group exactly their permissions (idempotent; run after every migrate)."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        group = supervisor_group_ensure()
        self.stdout.write(f"group {SUPERVISOR_GROUP!r}: {group.permissions.count()} permissions")
        ops = ops_group_ensure()
        self.stdout.write(f"group {OPS_GROUP!r}: {ops.permissions.count()} permissions")
