"""A servicer hands a session to another online seat, with a note: the transcript continues."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from cs_project.errors import ApplicationError
from robots.wfprotocol import CsControl
from seats.models import Seat
from sessions_app.events import SessionEvent as SessionEventPayload
from sessions_app.events import event_to_seat
from sessions_app.flow.assignment import handover_to_im, seat_claim_one, seat_release
from sessions_app.flow.servicer import owned_session_lock
from sessions_app.flow.servicer_im import servicer_im_transferred_away
from sessions_app.flow.servicer_texts import handover_heading_transfer
from sessions_app.flow.transcript import customer_signal, customer_tell
from sessions_app.models import ServiceSession, ServiceSettings, SessionEvent

NOTE_MAX_LENGTH = 500


@transaction.atomic
def session_transfer(*, session_id: int, from_seat: Seat, to_seat_id: int, note: str = "") -> ServiceSession:
    """Move a session from ``from_seat`` (which must serve it) to another seat.

    1. Lock the session and check that ``from_seat`` serves it.
    2. Lock both seat rows in id order, so two opposite transfers cannot deadlock.
    3. Claim one unit of the target's capacity with the same conditional UPDATE as assignment
       (online, under capacity); refuse when it has no room. Release the source's unit.
    4. Record the transfer, tell the customer (text and the SERVICER_ASSIGNED control), brief
       the target's IM app through the shadow, tell the source's IM app where it went, and tell
       both consoles.
    """
    note = note.strip()
    if len(note) > NOTE_MAX_LENGTH:
        raise ApplicationError(
            _("The note is longer than %(max)s characters.") % {"max": NOTE_MAX_LENGTH}, code="note_too_long"
        )
    session = owned_session_lock(session_id=session_id, seat=from_seat)
    if to_seat_id == from_seat.pk:
        raise ApplicationError(_("The session is already yours."), code="same_seat")
    list(Seat.objects.select_for_update(no_key=True).filter(pk__in=[from_seat.pk, to_seat_id]).order_by("pk"))
    to_seat = seat_claim_one(seat_id=to_seat_id)
    if to_seat is None:
        raise ApplicationError(_("That servicer is not online or has no room."), code="seat_unavailable", status=409)
    seat_release(seat_id=from_seat.pk)
    transfer_record_and_tell(session=session, from_seat=from_seat, to_seat=to_seat, note=note)
    return session


def transfer_record_and_tell(
    *,
    session: ServiceSession,
    from_seat: Seat,
    to_seat: Seat,
    note: str,
    by_supervisor: bool = False,
    take_over: bool = False,
) -> None:
    """Give a locked session whose target seat capacity is already claimed (and the source's
    released) to ``to_seat``: record it, tell the customer, both IM apps and both consoles.
    Shared by a servicer's transfer, a supervisor's reassignment and take-over (``take_over``:
    ``to_seat`` is the supervisor's own)."""
    session.seat = to_seat
    session.save(update_fields=["seat"])
    SessionEvent.objects.create(
        session=session,
        kind=SessionEvent.Kind.TRANSFERRED,
        seat=to_seat,
        detail={"from_seat": from_seat.pk, "to_seat": to_seat.pk, "note": note}
        | ({"by_supervisor": True} if by_supervisor else {})
        | ({"take_over": True} if take_over else {}),
    )
    customer = session.customer
    detail: dict[str, object] = {
        "note": note,
        "from_seat": from_seat.display_name,
        "to_seat": to_seat.display_name,
        "queued_at": session.queued_at.isoformat() if session.queued_at else None,
    }
    if by_supervisor:
        detail["by_supervisor"] = True
    if take_over:
        detail["take_over"] = True
    received: SessionEventPayload = {
        "type": "session.assigned",
        "session_id": session.pk,
        "customer_id": customer.pk,
        "customer_name": str(customer),
        "state": session.state,
        "detail": detail,
    }
    # Before the messages below: the receiving console learns of the session, then of its messages.
    event_to_seat(to_seat.pk, received)
    event_to_seat(from_seat.pk, {**received, "type": "session.transferred_out"})
    heading = handover_heading_transfer(
        session_id=session.pk, customer=customer, from_seat=from_seat, note=note, take_over=take_over
    )
    from_card = {"id": str(from_seat.pk), "name": from_seat.display_name}
    handover_to_im(session=session, seat=to_seat, heading=heading, detail={"from": from_card, "note": note})
    servicer_im_transferred_away(session=session, from_seat=from_seat, to_seat=to_seat, note=note)
    config = ServiceSettings.load()
    customer_tell(
        session=session, text=config.text("transferred_text", session.language).format(name=to_seat.display_name)
    )
    servicer = {"id": str(to_seat.pk), "name": to_seat.display_name, "avatar": to_seat.avatar_url}
    customer_signal(session=session, kind=CsControl.SERVICER_ASSIGNED, data={"servicer": servicer})
