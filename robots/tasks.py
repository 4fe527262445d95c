"""Thin Celery tasks over the outbox and inbound services.

The periodic sweeps are the safety net: they pick up whatever is due (a back-off that ended, a
lost task message, a crashed worker's lease). On top of that, a delivery that ends with a short
delay (a rate-limit pause, an early back-off) re-schedules its key with that countdown, so a paced
burst moves at the IM server's rate rather than the sweep's. Longer back-offs are left to the sweep:
a Redis-broker task held past the visibility timeout would be delivered twice. Eager tasks (tests)
never re-schedule: eager mode ignores the countdown, so it would recurse; the test drives them.
"""

from __future__ import annotations

import logging

from celery import Task, shared_task

from robots import callbacks, outbox

logger = logging.getLogger(__name__)

RESCHEDULE_MAX_SECONDS = 30.0


@shared_task(bind=True, acks_late=True, ignore_result=True)
def outbox_deliver(self: Task[[str], None], key: str) -> None:
    _deliver(key, eager=bool(self.request.is_eager))


@shared_task(bind=True, acks_late=True, ignore_result=True)
def outbox_deliver_many(self: Task[[list[str]], None], keys: list[str]) -> None:
    """Several conversations' rows, one after the other (``outbox.outbox_batched_scheduling``)."""
    for key in keys:
        _deliver(key, eager=bool(self.request.is_eager))


def _deliver(key: str, *, eager: bool) -> None:
    delay = outbox.outbox_deliver_key(key=key)
    if delay is None or delay > RESCHEDULE_MAX_SECONDS or eager:
        return
    try:
        outbox_deliver.apply_async(args=(key,), countdown=delay)
    except Exception:
        # The sweep re-schedules every due key; a broker hiccup only slows this one down.
        logger.exception("could not re-schedule outbox key %s", key)


@shared_task(ignore_result=True)
def outbox_sweep() -> None:
    for key in outbox.outbox_due_keys():
        outbox_deliver.delay(key)


@shared_task(ignore_result=True)
def inbound_sweep() -> None:
    callbacks.inbound_retry_due()
