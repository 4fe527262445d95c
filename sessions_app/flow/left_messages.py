"""Left messages (kept when no servicer could take the customer): telling the consoles, marking them handled."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cs_project.errors import ApplicationError
from robots.wfprotocol import TEXT_MAX_LENGTH, servicer_extra, text_payload
from seats.models import Seat
from sessions_app.events import event_to_consoles, left_message_event
from sessions_app.flow.transcript import customer_send
from sessions_app.models import LeftMessage, Message, ServiceSession


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


@transaction.atomic
def left_message_answer(*, message_id: int, seat: Seat, text: str) -> Message:
    """A servicer answers a left message: the text goes to the customer as the CS Robot (the outbox),
    is kept in the transcript of the session the message was left in, and the message becomes
    handled by this seat. Refused when another seat handled it first; the same seat may answer again.
    """
    text = text.strip()
    if not text:
        raise ApplicationError(_("Write an answer first."), code="empty")
    if len(text) > TEXT_MAX_LENGTH:
        message = _("The message is too long: at most %(max)s characters, this one has %(length)s.")
        raise ApplicationError(message % {"max": f"{TEXT_MAX_LENGTH:,}", "length": f"{len(text):,}"}, code="too_long")
    left = LeftMessage.objects.select_for_update(no_key=True, of=("self",)).filter(pk=message_id).first()
    if left is None:
        raise ApplicationError(_("No such left message."), code="not_found", status=404)
    if left.handled_at is not None and left.handled_by_id != seat.pk:
        raise ApplicationError(_("Someone else has already handled this message."), code="already_handled", status=409)
    # The session it was left in; when that row is gone, the customer's latest one keeps the answer.
    session = (
        ServiceSession.objects.select_for_update(no_key=True, of=("self",))
        .select_related("customer")
        .filter(pk=left.session_id)
        .first()
        if left.session_id is not None
        else None
    ) or (
        ServiceSession.objects.select_for_update(no_key=True, of=("self",))
        .select_related("customer")
        .filter(customer_id=left.customer_id)
        .order_by("-opened_at")
        .first()
    )
    if session is None:
        raise ApplicationError(_("This customer has no conversation to answer in."), code="no_session", status=409)
    extra = servicer_extra(name=seat.display_name, avatar=seat.avatar_url, servicer_id=str(seat.pk))
    answer = customer_send(
        session=session, payload=text_payload(text, extra=extra), author=Message.Author.SERVICER, seat=seat
    )
    if left.handled_at is None:
        left_messages_mark_handled(message_ids=[left.pk], seat=seat)
    return answer
