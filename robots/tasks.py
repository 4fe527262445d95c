"""Thin Celery tasks over the adapter's services.

The outbox is not delivered by Celery: the ``outbox_stream`` process does it (robots/outbox.py).
What stays here: the inbound sweep (periodic) retries stored customer messages whose handling
failed; the profile read fetches a new customer's IM profile after their first message committed.
"""

from __future__ import annotations

import logging

from celery import Task, shared_task

from robots import callbacks, services
from robots.wfprotocol import WfcError

logger = logging.getLogger(__name__)

PROFILE_READ_RETRIES = 5


@shared_task(ignore_result=True)
def inbound_sweep() -> None:
    callbacks.inbound_retry_due()


@shared_task(bind=True, acks_late=True, ignore_result=True, max_retries=PROFILE_READ_RETRIES)
def user_profile_read_task(self: Task, user_im_id: str) -> None:  # type: ignore[type-arg]
    """Retried with backoff while the IM server is busy or unreachable; a user it does not know
    (or any other refusal) is logged and left: the shadow's provisioning reads the profile again."""
    try:
        services.user_profile_read(user_im_id=user_im_id)
    except WfcError as exc:
        if not exc.retryable:
            logger.warning("profile of IM user %s not read: %s", user_im_id, exc)
            return
        raise self.retry(exc=exc, countdown=5 * 2**self.request.retries) from exc
