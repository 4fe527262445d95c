"""The queue as servicers see it: who waits, and a servicer taking a customer from it by hand.

A take uses the same locks as the automatic assignment (``assignment.queue_drain``): first the
queued session's row (``SELECT ... FOR UPDATE``, waiting, never skipping), then one unit of the
seat's capacity by the conditional UPDATE of ``seat_claim_one``. Whoever locks the row second
finds it no longer queued once the first commits, so a customer never gets two seats, and the
capacity condition is re-checked by PostgreSQL under the seat row's lock, so no seat goes over.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TypedDict

from django.db import transaction
from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from cs_project.errors import ApplicationError
from seats.models import Seat
from sessions_app.events import queue_changed_publish
from sessions_app.flow.assignment import (
    overflow_alias,
    overflowed_q,
    queue_announce_positions,
    queue_positions,
    seat_claim_one,
    session_assign,
    session_overflowed,
)
from sessions_app.models import Message, ServiceSession, ServiceSettings

FIRST_MESSAGE_PREVIEW = 200
# A take-next whose head row was taken while it waited for the lock tries the new head this often.
TAKE_NEXT_ATTEMPTS = 5


class QueueEntry(TypedDict):
    session_id: int
    position: int
    customer_id: int
    customer_name: str
    customer_avatar: str
    queued_at: datetime
    waiting_seconds: int
    first_message: str
    skill_group_id: int | None
    skill_group: str
    may_take: bool
    may_take_in_seconds: int | None


def queue_list(*, seat: Seat | None = None) -> list[QueueEntry]:
    """Every queued customer, oldest first, with the first thing they wrote in this session; the
    position is the one the customer is told (``assignment.queue_positions``).

    ``may_take``: the customer is one ``seat`` serves by the group rules, as take-next and the drain
    choose (no group, one of the seat's groups, or overflowed); without a seat, one any seat serves.
    ``may_take_in_seconds``: for one not yet, the seconds until their group overflows (None: never)."""
    first_text = (
        Message.objects.filter(session=OuterRef("pk"), direction=Message.Direction.IN, author=Message.Author.CUSTOMER)
        .order_by("seq")
        .values("payload__searchableContent")[:1]
    )
    queued = (
        ServiceSession.objects.filter(state=ServiceSession.State.QUEUED, queued_at__isnull=False)
        .select_related("customer", "skill_group")
        .annotate(first_text=Subquery(first_text))
        .order_by("queued_at", "pk")
    )
    now = timezone.now()
    seat_groups = set(seat.skill_groups.values_list("pk", flat=True)) if seat is not None else set()
    sessions = list(queued)
    positions = queue_positions(
        (session.pk, session.skill_group_id, session_overflowed(session=session, now=now)) for session in sessions
    )
    entries: list[QueueEntry] = []
    for session in sessions:
        queued_at = session.queued_at or now  # never None: filtered above
        may_take = session.skill_group_id in seat_groups or session_overflowed(session=session, now=now)
        overflow = session.skill_group.overflow_minutes if session.skill_group is not None else None
        may_take_in = (
            None
            if may_take or overflow is None
            else max(0, int((queued_at + timedelta(minutes=overflow) - now).total_seconds()))
        )
        entries.append(
            {
                "session_id": session.pk,
                "position": positions[session.pk],
                "customer_id": session.customer_id,
                "customer_name": str(session.customer),
                "customer_avatar": session.customer.avatar_url,
                "queued_at": queued_at,
                "waiting_seconds": max(0, int((now - queued_at).total_seconds())),
                "first_message": str(session.first_text or "")[:FIRST_MESSAGE_PREVIEW],
                "skill_group_id": session.skill_group_id,
                "skill_group": str(session.skill_group or ""),
                "may_take": may_take,
                "may_take_in_seconds": may_take_in,
            }
        )
    return entries


def _queued_lock(*, session_id: int | None, seat: Seat | None = None) -> ServiceSession | None:
    """Lock a queued session (with ``seat``: the oldest that seat may take: a customer with no skill
    group, of one of the seat's groups, or whose group has overflowed); None when it is not queued."""
    queued = ServiceSession.objects.select_for_update(no_key=True, of=("self",)).filter(
        state=ServiceSession.State.QUEUED
    )
    if session_id is not None:
        queued = queued.filter(pk=session_id)
    if seat is not None:
        queued = _served_by(queued, seat=seat)
    return queued.order_by("queued_at", "pk").select_related("customer").first()


def _served_by(queued: QuerySet[ServiceSession], *, seat: Seat) -> QuerySet[ServiceSession]:
    return overflow_alias(queued).filter(
        Q(skill_group__isnull=True) | Q(skill_group__seats=seat) | overflowed_q(timezone.now())
    )


def _refuse_claim(*, seat: Seat) -> ApplicationError:
    """Why this seat could not take one more customer."""
    seat.refresh_from_db(fields=["status", "active_sessions", "capacity"])
    if seat.status != Seat.Status.ONLINE:
        return ApplicationError(_("Switch to online to take customers."), code="not_online", status=409)
    return ApplicationError(
        _("You are at your capacity (%(capacity)s): end a session first.") % {"capacity": seat.capacity},
        code="at_capacity",
        status=409,
    )


def _take_locked(*, session: ServiceSession, seat: Seat) -> ServiceSession:
    claimed = seat_claim_one(seat_id=seat.pk)
    if claimed is None:
        raise _refuse_claim(seat=seat)
    session_assign(session=session, seat=claimed, config=ServiceSettings.load())
    queue_changed_publish()
    return session


def queue_take(*, seat: Seat, session_id: int) -> ServiceSession:
    """An online seat with room takes this queued customer; 409 when someone else was first. A
    servicer who picks a customer by hand may take one of any skill group: a deliberate choice."""
    with transaction.atomic():
        session = _queued_lock(session_id=session_id)
        if session is None:
            if not ServiceSession.objects.filter(pk=session_id).exists():
                raise ApplicationError(_("No such customer in the queue."), code="not_found", status=404)
            raise ApplicationError(
                _("This customer is no longer waiting: someone else took them, or they left."),
                code="not_queued",
                status=409,
            )
        _take_locked(session=session, seat=seat)
    queue_announce_positions()
    return session


def queue_take_next(*, seat: Seat) -> ServiceSession:
    """An online seat with room takes the customer who has waited longest among those it serves
    (no skill group, one of its groups, or overflowed).

    1. Lock the head of the queue (waiting for a concurrent take or drain to finish with it).
    2. PostgreSQL re-checks a row that changed while we waited and drops it: then the head has
       moved, and we try the new head, a few times at most.
    3. Claim one unit of the seat's capacity and assign.
    """
    for _attempt in range(TAKE_NEXT_ATTEMPTS):
        with transaction.atomic():
            session = _queued_lock(session_id=None, seat=seat)
            if session is not None:
                _take_locked(session=session, seat=seat)
                break
        if not _served_by(ServiceSession.objects.filter(state=ServiceSession.State.QUEUED), seat=seat).exists():
            raise ApplicationError(_("Nobody is waiting in the queue."), code="queue_empty", status=409)
    else:
        raise ApplicationError(_("The queue is changing fast: please try again."), code="busy", status=409)
    queue_announce_positions()
    return session
