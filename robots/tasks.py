"""Thin Celery tasks over the outbox and inbound services.

Retries are not re-scheduled from inside a task: the periodic sweeps pick up whatever is due
(a back-off that ended, a lost task message, a crashed worker's lease), so there is one retry
path, and it behaves the same with real workers and with eager tasks in tests.
"""

from __future__ import annotations

from celery import shared_task

from robots import callbacks, outbox


@shared_task(acks_late=True, ignore_result=True)
def outbox_deliver(key: str) -> None:
    outbox.outbox_deliver_key(key=key)


@shared_task(ignore_result=True)
def outbox_sweep() -> None:
    for key in outbox.outbox_due_keys():
        outbox_deliver.delay(key)


@shared_task(ignore_result=True)
def inbound_sweep() -> None:
    callbacks.inbound_retry_due()
