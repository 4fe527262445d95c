"""What the Wildfire adapter hands up to the customer-service flow, without importing it.

The adapter sits at the bottom of the house (docs/architecture.md): it stores what the IM server
sends, delivers what the flow wrote to the outbox, and provisions shadows. Three things it learns
on the way belong to the flow above; the flow registers one ``FlowHandlers`` from its
``AppConfig.ready`` and the adapter calls it:

- ``inbound``: act on a stored message (in its transaction, holding its row lock); False for a
  message that is well-formed but not for the flow (kept as IGNORED).
- ``delivered``: outbox rows that carried the flow's ``reference`` were accepted by the IM server,
  which gave them these message ids (``(reference, im_message_id)`` pairs, a batch at a time).
- ``profile_read``: the IM server's profile of a user was read (a shadow's first provisioning).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from django.core.exceptions import ImproperlyConfigured

from robots.models import InboundMessage, Robot


class InboundHandler(Protocol):
    def __call__(self, *, robot: Robot, inbound: InboundMessage) -> bool: ...


class DeliveredListener(Protocol):
    def __call__(self, *, deliveries: Sequence[tuple[int, int]]) -> None: ...


class ProfileListener(Protocol):
    def __call__(self, *, im_user_id: str, display_name: str, avatar_url: str) -> None: ...


@dataclass(frozen=True)
class FlowHandlers:
    inbound: InboundHandler
    delivered: DeliveredListener
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
