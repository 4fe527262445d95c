"""Left messages (kept out of business hours): marking them handled."""

from __future__ import annotations

from django.utils import timezone

from seats.models import Seat
from sessions_app.models import LeftMessage


def left_messages_mark_handled(*, message_ids: list[int], seat: Seat | None = None) -> int:
    """Mark messages handled (by ``seat``, if a seat did it); ones already handled keep their mark."""
    return LeftMessage.objects.filter(pk__in=message_ids, handled_at__isnull=True).update(
        handled_at=timezone.now(), handled_by=seat
    )
