"""Left messages (kept when no servicer could take the customer): telling the consoles, marking them handled."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _

from cs_project.errors import ApplicationError
from seats.models import Seat
from sessions_app.events import event_to_consoles, left_message_event
from sessions_app.models import LeftMessage


def left_message_created(*, left_message: LeftMessage) -> None:
    """Every open console learns of a new left message, once the transaction that kept it commits."""
    event_to_consoles(left_message_event(left_message))


def left_messages_mark_handled(*, message_ids: list[int], seat: Seat | None = None) -> int:
    """Mark messages handled (by ``seat``, if a seat did it); ones already handled keep their mark."""
    count = LeftMessage.objects.filter(pk__in=message_ids, handled_at__isnull=True).update(
        handled_at=timezone.now(), handled_by=seat
    )
    if count:
        # The consoles drop these ids from their lists; ids that were handled already are gone there.
        event_to_consoles(
            {"type": "left_message.handled", "ids": sorted(set(message_ids)), "seat_id": seat.pk if seat else None}
        )
    return count


def left_message_handle(*, message_id: int, seat: Seat) -> LeftMessage:
    """A servicer takes one message; refused when someone else marked it first."""
    if not left_messages_mark_handled(message_ids=[message_id], seat=seat):
        if not LeftMessage.objects.filter(pk=message_id).exists():
            raise ApplicationError(_("No such left message."), code="not_found", status=404)
        raise ApplicationError(_("Someone else has already handled this message."), code="already_handled", status=409)
    return LeftMessage.objects.select_related("customer", "handled_by").get(pk=message_id)
