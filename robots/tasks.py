"""Thin Celery tasks over the adapter's services.

The outbox is not delivered by Celery: the ``outbox_stream`` process does it (robots/outbox.py).
What stays here is periodic: the inbound sweep retries stored customer messages whose handling failed.
"""

from __future__ import annotations

from celery import shared_task

from robots import callbacks


@shared_task(ignore_result=True)
def inbound_sweep() -> None:
    callbacks.inbound_retry_due()
