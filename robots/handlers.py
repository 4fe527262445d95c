"""What the Wildfire adapter hands up to the customer-service flow, without importing it.

The adapter sits at the bottom of the house (docs/architecture.md): it stores what the IM server
sends, delivers what the flow wrote to the outbox, and provisions shadows. Three things it learns
on the way belong to the flow above; the flow registers one ``FlowHandlers`` from its
``AppConfig.ready`` and the adapter calls it:

- ``inbound``: act on a stored message (in its transaction, holding its row lock); False for a
  message that is well-formed but not for the flow (kept as IGNORED).
- ``delivered_sql``: outbox rows that carried the flow's ``reference`` were accepted by the IM
  server, which gave them message ids. The flow hands over one SQL statement over the relation
  ``sent(reference bigint, uid bigint)``, which the adapter runs inside the very statement that
  marks the rows sent (a data-modifying ``WITH``): one statement per batch instead of two. If it
  fails, the rows are marked sent without it (never unsent for the flow's sake), and the failure
  is logged.
- ``profile_read``: the IM server's profile of a user was read (a shadow's first provisioning).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from django.core.exceptions import ImproperlyConfigured

from robots.models import InboundMessage, Robot


class InboundHandler(Protocol):
    def __call__(self, *, robot: Robot, inbound: InboundMessage) -> bool: ...


class ProfileListener(Protocol):
    def __call__(self, *, im_user_id: str, display_name: str, avatar_url: str) -> None: ...


@dataclass(frozen=True)
class FlowHandlers:
    inbound: InboundHandler
    delivered_sql: str
    profile_read: ProfileListener


_registered: FlowHandlers | None = None


def flow_handlers_register(handlers: FlowHandlers) -> None:
    """Called once per process, at start-up, by the flow above the adapter."""
    global _registered  # one set per process, written at start-up only
    _registered = handlers


def flow_handlers() -> FlowHandlers:
    if _registered is None:
        raise ImproperlyConfigured("no flow handlers registered (robots.handlers.flow_handlers_register)")
    return _registered
