from __future__ import annotations

from celery import shared_task

from seats import presence


@shared_task(ignore_result=True)
def presence_check_task(seat_id: int) -> None:
    presence.presence_check(seat_id=seat_id)


@shared_task(ignore_result=True)
def presence_sweep_task() -> None:
    presence.presence_sweep()
