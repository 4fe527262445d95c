"""Open consoles close when their login ends: logging out closes that browser session's consoles,
deactivating a user closes all of theirs, at once (not at their next action).

Each console joins two groups when it connects: its login's (a digest of the session key, never the
key itself) and its user's; the receivers below, connected by ``SessionsAppConfig.ready``, publish a
``console.revoked`` event to the right one, and the consumer closes with 4401.
"""

from __future__ import annotations

import hashlib
import logging

from django.contrib.auth.models import AbstractBaseUser, User
from django.db import transaction
from django.http import HttpRequest

from cs_project import layer_sender

logger = logging.getLogger(__name__)

REVOKED = {"type": "console.revoked"}


def login_group(session_key: str) -> str:
    return f"cs.login.{hashlib.sha256(session_key.encode()).hexdigest()[:40]}"


def user_group(user_id: int) -> str:
    return f"cs.user.{user_id}"


def _revoke(group: str) -> None:
    try:
        layer_sender.group_send(group, REVOKED)
    except Exception:
        # The consoles still close at their next action, which checks the login again.
        logger.exception("could not close the consoles of %s", group)


def consoles_close_on_logout(
    sender: object, request: HttpRequest | None, user: AbstractBaseUser | None, **_: object
) -> None:
    session_key = getattr(getattr(request, "session", None), "session_key", None)
    if session_key:
        _revoke(login_group(session_key))


def consoles_close_on_deactivation(sender: object, instance: User, created: bool, **_: object) -> None:  # noqa: FBT001
    if not created and not instance.is_active:
        # Once committed: a console reconnecting in between must already find the user inactive.
        group = user_group(instance.pk)
        transaction.on_commit(lambda: _revoke(group))
