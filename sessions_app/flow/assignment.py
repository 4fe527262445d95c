"""Choosing a seat for a customer who asked for a human, and the queue.

The rule: an online seat under its capacity; fewest active sessions first, the seat idle the
longest breaking ties; the customer's previous servicer preferred when eligible. A seat is
claimed with one conditional UPDATE (``active_sessions < capacity``), so concurrent claims never
push a seat over capacity: PostgreSQL makes the second writer wait for the first and re-check
the condition.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.formats import time_format

from cs_project.task_queue import task_enqueue
from robots.models import OutboundMessage
from robots.outbox import outbox_enqueue
from robots.wfprotocol import CsControl, ServicerNotice, servicer_notice_extra, text_payload
from seats.models import Seat
from sessions_app.events import SessionEvent as SessionEventPayload
from sessions_app.events import event_to_seat, queue_changed_publish
from sessions_app.flow.servicer_texts import handover_heading_new, handover_summary_lines
from sessions_app.flow.transcript import customer_signal, customer_tell
from sessions_app.models import Message, ServiceSession, ServiceSettings, SessionEvent

logger = logging.getLogger(__name__)

HANDOVER_HISTORY = 10


def _eligible_seats() -> Q:
    return Q(status=Seat.Status.ONLINE, active_sessions__lt=F("capacity"))


def seat_claim(*, preferred_seat_id: int | None = None) -> Seat | None:
    """Take one unit of some eligible seat's capacity, or None when every seat is full."""
    candidates = list(
        Seat.objects.filter(_eligible_seats())
        .order_by("active_sessions", F("last_assigned_at").asc(nulls_first=True), "id")
        .values_list("pk", flat=True)[:20]
    )
    if preferred_seat_id in candidates:
        candidates.remove(preferred_seat_id)
        candidates.insert(0, preferred_seat_id)
    for seat_id in candidates:
        seat = seat_claim_one(seat_id=seat_id)
        if seat is not None:
            return seat
    return None


def seat_claim_one(*, seat_id: int) -> Seat | None:
    """Take one unit of this seat's capacity if it is online with room; None otherwise."""
    claimed = Seat.objects.filter(_eligible_seats(), pk=seat_id).update(
        active_sessions=F("active_sessions") + 1, last_assigned_at=timezone.now()
    )
    return Seat.objects.get(pk=seat_id) if claimed else None


def seat_release(*, seat_id: int) -> None:
    Seat.objects.filter(pk=seat_id, active_sessions__gt=0).update(active_sessions=F("active_sessions") - 1)
    transaction.on_commit(queue_drain_soon)


def queue_drain_soon() -> None:
    task_enqueue("sessions_app.tasks.queue_drain_task")


def previous_seat_id(*, session: ServiceSession) -> int | None:
    return (
        ServiceSession.objects.filter(customer_id=session.customer_id, state=ServiceSession.State.CLOSED)
        .exclude(seat__isnull=True)
        .order_by("-closed_at")
        .values_list("seat_id", flat=True)
        .first()
    )


def in_business_hours(config: ServiceSettings) -> bool:
    if not config.business_hours_enabled:
        return True
    local = timezone.localtime()
    days = {int(day) for day in config.business_days.split(",") if day.strip().isdigit()}
    return local.isoweekday() in days and config.business_hours_start <= local.time() < config.business_hours_end


def _offer_left_message(*, session: ServiceSession, text: str) -> None:
    """Nobody can take the customer now: they stay with the bot, and their next text is kept as a
    left message (inbound)."""
    session.leaving_message = True
    session.save(update_fields=["leaving_message"])
    customer_tell(session=session, text=text)


def session_request_human(*, session: ServiceSession, config: ServiceSettings) -> None:
    """The customer asked for a human: assign a seat now, or queue and say where they stand.

    Out of business hours, or with no seat online at all (queueing would wait for nobody), the
    customer is told so and may leave a message instead. Online seats that are all full: queue."""
    if session.state == ServiceSession.State.HUMAN:
        return
    if session.state == ServiceSession.State.QUEUED:
        _announce_position(session=session, force=True)
        return
    if not in_business_hours(config):
        hours = f"{time_format(config.business_hours_start, 'H:i')}-{time_format(config.business_hours_end, 'H:i')}"
        _offer_left_message(
            session=session, text=config.text("out_of_hours_text", session.language).format(hours=hours)
        )
        return
    if not Seat.objects.filter(status=Seat.Status.ONLINE).exists():
        _offer_left_message(session=session, text=config.text("no_servicer_online_text", session.language))
        return
    SessionEvent.objects.create(session=session, kind=SessionEvent.Kind.HUMAN_REQUESTED)
    session.state = ServiceSession.State.QUEUED
    session.queued_at = timezone.now()
    session.idle_since = session.queued_at  # the queue timeout runs from here
    session.save(update_fields=["state", "queued_at", "idle_since"])
    seat = seat_claim(preferred_seat_id=previous_seat_id(session=session))
    if seat is not None:
        session_assign(session=session, seat=seat, config=config)
        return
    SessionEvent.objects.create(session=session, kind=SessionEvent.Kind.QUEUED)
    queue_changed_publish()
    _announce_position(session=session, force=True, config=config)


def session_assign(*, session: ServiceSession, seat: Seat, config: ServiceSettings) -> None:
    """Hand a queued session to a seat whose capacity was already claimed for it."""
    session.state = ServiceSession.State.HUMAN
    session.seat = seat
    session.assigned_at = timezone.now()
    session.announced_position = None
    session.last_customer_activity_at = session.assigned_at
    session.idle_since = None  # the customer asked for a human: the servicer owes the first reply
    session.idle_warned_at = None
    session.save(
        update_fields=[
            "state",
            "seat",
            "assigned_at",
            "announced_position",
            "last_customer_activity_at",
            "idle_since",
            "idle_warned_at",
        ]
    )
    SessionEvent.objects.create(session=session, kind=SessionEvent.Kind.ASSIGNED, seat=seat)
    customer = session.customer
    # Summarised before the assignment notice below, so that it shows only the conversation.
    handover_to_im(session=session, seat=seat, heading=handover_heading_new(session_id=session.pk, customer=customer))
    servicer = {"id": str(seat.pk), "name": seat.display_name, "avatar": seat.avatar_url}
    customer_tell(session=session, text=config.text("assigned_text", session.language).format(name=seat.display_name))
    customer_signal(session=session, kind=CsControl.SERVICER_ASSIGNED, data={"servicer": servicer})
    event: SessionEventPayload = {
        "type": "session.assigned",
        "session_id": session.pk,
        "customer_id": customer.pk,
        "customer_name": str(customer),
        "state": session.state,
        "detail": {"queued_at": session.queued_at.isoformat() if session.queued_at else None},
    }
    event_to_seat(seat.pk, event)


def handover_to_im(
    *, session: ServiceSession, seat: Seat, heading: str, detail: Mapping[str, object] | None = None
) -> None:
    """Tell a seat's IM app, through the customer's shadow, that a session is now theirs (on
    assignment and on transfer): ``heading``, then the conversation so far. No IM account, no message.
    A text that counts as unread (a customer waits), marked as the "assigned" notice
    (flow.servicer_im), with ``detail`` for a modified client."""
    if not seat.im_user_id:
        return
    extra = servicer_notice_extra(notice=ServicerNotice.ASSIGNED, session_id=str(session.pk), detail=detail or {})
    outbox_enqueue(
        sender_kind=OutboundMessage.SenderKind.SHADOW,
        shadow_of=session.customer.im_user_id,
        target_user_id=seat.im_user_id,
        payload=text_payload(_handover_summary(session, heading=heading), extra=extra),
        befriend_first=True,
    )


def _handover_summary(session: ServiceSession, *, heading: str) -> str:
    """Who, and the conversation so far."""
    recent = list(
        # Never a whisper: it was for the servicer it was whispered to, not for the next one.
        Message.objects.filter(session=session, content_type__lt=1000)
        .exclude(direction=Message.Direction.INTERNAL)
        .order_by("-server_timestamp", "-seq")[:HANDOVER_HISTORY]
    )
    lines = handover_summary_lines(heading=heading, messages=list(reversed(recent)))
    return "\n".join(lines)


def queue_position(*, session: ServiceSession) -> int:
    """1 for the head of the queue."""
    if session.queued_at is None:
        raise ValueError(f"session {session.pk} is not queued")
    ahead = ServiceSession.objects.filter(state=ServiceSession.State.QUEUED).filter(
        Q(queued_at__lt=session.queued_at) | Q(queued_at=session.queued_at, pk__lt=session.pk)
    )
    return ahead.count() + 1


def _announce_position(*, session: ServiceSession, force: bool = False, config: ServiceSettings | None = None) -> None:
    position = queue_position(session=session)
    if not force and position == session.announced_position:
        return
    config = config or ServiceSettings.load()
    session.announced_position = position
    session.save(update_fields=["announced_position"])
    text = config.text("queued_text", session.language)
    customer_tell(session=session, text=text.format(ahead=position - 1, position=position))
    customer_signal(session=session, kind=CsControl.QUEUE_POSITION, data={"position": position, "queued": True})


def queue_drain(*, limit: int = 1000) -> int:
    """Assign queued sessions, oldest first, while seats have room; then re-announce positions.

    Each assignment is its own transaction, holding the oldest queued row's lock while it claims a
    seat. Several workers may drain at once: one waits for the other's head row instead of skipping
    it, so the last free place always goes to the oldest customer (with ``skip_locked`` a younger
    one could take it while the older one's claim was still in flight).
    """
    config = ServiceSettings.load()
    assigned = 0
    while assigned < limit:
        with transaction.atomic():
            session = (
                ServiceSession.objects.select_for_update(no_key=True, of=("self",))
                .filter(state=ServiceSession.State.QUEUED)
                .order_by("queued_at", "pk")
                .select_related("customer")
                .first()
            )
            if session is None:
                break
            seat = seat_claim(preferred_seat_id=previous_seat_id(session=session))
            if seat is None:
                break
            session_assign(session=session, seat=seat, config=config)
            assigned += 1
    if assigned:
        queue_changed_publish()  # once per drain, not per customer: each console reloads its panel
        queue_announce_positions()
    return assigned


def queue_announce_positions() -> None:
    """Tell each queued customer whose position changed; positions come from one ordered scan."""
    queued = ServiceSession.objects.filter(state=ServiceSession.State.QUEUED).order_by("queued_at", "pk")
    for position, (session_id, announced) in enumerate(queued.values_list("pk", "announced_position"), start=1):
        if announced == position:
            continue
        with transaction.atomic():
            session = (
                ServiceSession.objects.select_for_update(no_key=True, skip_locked=True, of=("self",))
                .filter(pk=session_id, state=ServiceSession.State.QUEUED)
                .select_related("customer")
                .first()
            )
            if session is not None:
                _announce_position(session=session)
