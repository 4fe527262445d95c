from __future__ import annotations

from typing import Any

from celery import shared_task
from celery.signals import worker_ready

from cs_project.health import record_worker_heartbeat


@shared_task(ignore_result=True)
def worker_heartbeat() -> None:
    record_worker_heartbeat()


@worker_ready.connect
def _heartbeat_on_start(**_: Any) -> None:
    record_worker_heartbeat()
