"""What the customer-service flow asks of the apps above it, without importing them.

Ratings sit above the flow (docs/architecture.md): when a human-served session closes, the flow
offers a rating, and a customer's reply after the close may be that rating. The ratings app
registers ``RatingHooks`` from its ``AppConfig.ready``; with none registered, no rating is offered.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from robots.models import InboundMessage
from robots.wfprotocol import CsControl, MessagePayload
from sessions_app.models import Customer, ServiceSession


class RatingLink(Protocol):
    """The rating link of a closed session (sent in the close message)."""

    def __call__(self, *, session: ServiceSession) -> str: ...


class ReplyAfterClose(Protocol):
    """A customer with no open session wrote: True when it was a rating (and is fully handled)."""

    def __call__(
        self, *, customer: Customer, inbound: InboundMessage, payload: MessagePayload, control: CsControl | None
    ) -> bool: ...


@dataclass(frozen=True)
class RatingHooks:
    link: RatingLink
    reply_after_close: ReplyAfterClose


_rating_hooks: RatingHooks | None = None


def rating_hooks_register(hooks: RatingHooks) -> None:
    global _rating_hooks  # one set per process, written at start-up only
    _rating_hooks = hooks


def rating_hooks() -> RatingHooks | None:
    return _rating_hooks
