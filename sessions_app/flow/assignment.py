"""Choosing a seat for a customer who asked for a human, and the queue.

The rule: an online seat under its capacity; fewest active sessions first, the seat idle the
longest breaking ties; the customer's previous servicer preferred when eligible. A seat is
claimed with one conditional UPDATE (``active_sessions < capacity``), so concurrent claims never
push a seat over capacity: PostgreSQL makes the second writer wait for the first and re-check
the condition.

A customer who chose a skill group (``ServiceSession.skill_group``, flow.routing) is served by the
seats of that group only, and waits in that group's queue, until the group's overflow rule
(``SkillGroup.overflow_minutes``) lets any seat take them. A customer with no group is served by
any seat, as before groups existed. A position counts the customers the drain serves first
(``queue_positions``): the older ones of the same group and the older ones any seat may take.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import DateTimeField, DurationField, Exists, ExpressionWrapper, F, OuterRef, Q, QuerySet, Value
from django.utils import timezone
from django.utils.formats import time_format

from cs_project.task_queue import task_enqueue
from robots.models import OutboundMessage
from robots.outbox import outbox_enqueue
from robots.wfprotocol import CsControl, ServicerNotice, servicer_notice_extra, text_payload
from seats.models import Seat, SkillGroup
from sessions_app.events import SessionEvent as SessionEventPayload
from sessions_app.events import event_to_seat, queue_changed_publish
from sessions_app.flow.servicer_texts import handover_heading_new, handover_summary_lines
from sessions_app.flow.transcript import customer_signal, customer_tell
from sessions_app.models import Message, ServiceSession, ServiceSettings, SessionEvent

logger = logging.getLogger(__name__)

HANDOVER_HISTORY = 10


def _eligible_seats() -> Q:
    return Q(status=Seat.Status.ONLINE, active_sessions__lt=F("capacity"))


def seat_claim(*, preferred_seat_id: int | None = None, group_id: int | None = None) -> Seat | None:
    """Take one unit of some eligible seat's capacity (a seat of the skill group ``group_id`` when
    given), or None when every such seat is full.

    Without a group (a customer of no group, or overflowed), the seats a waiting customer of their
    group needs come last: seats of no group, or whose groups have nobody waiting, first, so that
    any-seat customers do not take the place a group's customer can only have there. The rank is
    part of the one SELECT (an EXISTS per candidate seat), so it costs no statement."""
    eligible = Seat.objects.filter(_eligible_seats())
    if group_id is not None:
        eligible = eligible.filter(skill_groups=group_id)
        needed: Exists | Value = Value(value=False)
    else:
        needed = Exists(
            ServiceSession.objects.filter(state=ServiceSession.State.QUEUED, skill_group__seats=OuterRef("pk"))
        )
    ranked = eligible.annotate(needed=needed).order_by(
        "needed", "active_sessions", F("last_assigned_at").asc(nulls_first=True), "id"
    )
    candidates = list(ranked.values_list("pk", "needed")[:20])
    # The previous servicer first, unless that seat is needed by its group's customers and another is not.
    candidates.sort(key=lambda candidate: (candidate[1], candidate[0] != preferred_seat_id))
    for seat_id, _needed in candidates:
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


def session_overflowed(*, session: ServiceSession, now: datetime | None = None) -> bool:
    """Whether any seat may take this customer: no group, or the group's overflow time has passed."""
    group = session.skill_group
    if group is None:
        return True
    return _overflow_passed(queued_at=session.queued_at, minutes=group.overflow_minutes, now=now or timezone.now())


def _overflow_passed(*, queued_at: datetime | None, minutes: int | None, now: datetime) -> bool:
    if minutes is None or queued_at is None:
        return False
    return queued_at + timedelta(minutes=minutes) <= now


def overflowed_q(now: datetime) -> Q:
    """``session_overflowed`` of a grouped session as a filter (for a queryset given
    ``overflow_alias``)."""
    return Q(overflow_at__lte=now)


def overflow_alias(queued: QuerySet[ServiceSession]) -> QuerySet[ServiceSession]:
    """``overflow_at``: when the customer's group lets any seat take them (NULL: never, or no group)."""
    minutes = ExpressionWrapper(
        F("skill_group__overflow_minutes") * Value(timedelta(minutes=1), output_field=DurationField()),
        output_field=DurationField(),
    )
    return queued.alias(overflow_at=ExpressionWrapper(F("queued_at") + minutes, output_field=DateTimeField()))


def session_seat_claim(*, session: ServiceSession, now: datetime | None = None) -> Seat | None:
    """Claim a seat for a queued session: the customer's previous servicer first when eligible, a
    seat of their group when they chose one, then any seat once the group overflows."""
    preferred = previous_seat_id(session=session)
    if session.skill_group_id is None:
        return seat_claim(preferred_seat_id=preferred)
    seat = seat_claim(preferred_seat_id=preferred, group_id=session.skill_group_id)
    if seat is None and session_overflowed(session=session, now=now):
        seat = seat_claim(preferred_seat_id=preferred)
    return seat


def previous_seat_id(*, session: ServiceSession) -> int | None:
    return (
        ServiceSession.objects.filter(customer_id=session.customer_id, state=ServiceSession.State.CLOSED)
        .exclude(seat__isnull=True)
        .order_by("-closed_at")
        .values_list("seat_id", flat=True)
        .first()
    )


def in_business_hours(config: ServiceSettings, group: SkillGroup | None = None) -> bool:
    """Whether it is within business hours: the group's own when it has them, else the global ones."""
    if group is not None and group.own_hours:
        start, end, business_days = group.hours_start, group.hours_end, group.business_days
    elif config.business_hours_enabled:
        start, end, business_days = config.business_hours_start, config.business_hours_end, config.business_days
    else:
        return True
    local = timezone.localtime()
    days = {int(day) for day in business_days.split(",") if day.strip().isdigit()}
    return local.isoweekday() in days and start <= local.time() < end


def _hours_text(config: ServiceSettings, group: SkillGroup | None) -> str:
    start, end = (
        (group.hours_start, group.hours_end)
        if group is not None and group.own_hours
        else (config.business_hours_start, config.business_hours_end)
    )
    return f"{time_format(start, 'H:i')}-{time_format(end, 'H:i')}"


def _nobody_to_wait_for(group: SkillGroup | None) -> bool:
    """No seat online that could ever take the customer: none at all, or, for a group that never
    overflows, none of the group's."""
    online = Seat.objects.filter(status=Seat.Status.ONLINE)
    if group is None:
        return not online.exists()
    if online.filter(skill_groups=group).exists():
        return False
    return group.overflow_minutes is None or not online.exists()


def _offer_left_message(*, session: ServiceSession, text: str) -> None:
    """Nobody can take the customer now: they stay with the bot, and their next text is kept as a
    left message (inbound)."""
    session.leaving_message = True
    session.bot_menu = []  # the next text is the message: a digit or a group's name picks nothing now
    session.save(update_fields=["leaving_message", "bot_menu"])
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
    group = session.skill_group
    if not in_business_hours(config, group):
        hours = _hours_text(config, group)
        _offer_left_message(
            session=session, text=config.text("out_of_hours_text", session.language).format(hours=hours)
        )
        return
    if _nobody_to_wait_for(group):
        _offer_left_message(session=session, text=config.text("no_servicer_online_text", session.language))
        return
    SessionEvent.objects.create(session=session, kind=SessionEvent.Kind.HUMAN_REQUESTED)
    session.state = ServiceSession.State.QUEUED
    session.queued_at = timezone.now()
    session.idle_since = session.queued_at  # the queue timeout runs from here
    session.save(update_fields=["state", "queued_at", "idle_since"])
    seat = session_seat_claim(session=session)
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
    """1 when no customer waits whom the seats that may take this one serve first (``queue_positions``,
    in one COUNT)."""
    if session.queued_at is None:
        raise ValueError(f"session {session.pk} is not queued")
    older = overflow_alias(ServiceSession.objects.filter(state=ServiceSession.State.QUEUED)).filter(
        Q(queued_at__lt=session.queued_at) | Q(queued_at=session.queued_at, pk__lt=session.pk)
    )
    served_first = Q(skill_group__isnull=True) | overflowed_q(timezone.now())
    if session.skill_group_id is not None:
        served_first |= Q(skill_group_id=session.skill_group_id)
    return older.filter(served_first).count() + 1


def queue_positions(queue: Iterable[tuple[int, int | None, bool]]) -> dict[int, int]:
    """Each queued customer's position (1: next), from the queue oldest first as (session id, skill
    group id, whether any seat may take them: no group, or overflowed).

    The drain serves the oldest first, so ahead of a customer are the older ones any seat may take
    (every seat serves them before a younger one, a group's seats too) and, for a customer of a
    group, the older ones of that group. With no skill group in use: the plain oldest-first rank."""
    positions: dict[int, int] = {}
    any_seat_ahead = 0
    group_ahead: Counter[int] = Counter()  # the customers of each group that only its seats take
    for session_id, group_id, any_seat in queue:
        positions[session_id] = any_seat_ahead + (group_ahead[group_id] if group_id is not None else 0) + 1
        if any_seat:
            any_seat_ahead += 1
        elif group_id is not None:
            group_ahead[group_id] += 1
    return positions


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


def _drain_head(*, full_groups: set[int], now: datetime) -> ServiceSession | None:
    """The oldest queued session some seat may still have room for, locked (waiting for it)."""
    queued = ServiceSession.objects.select_for_update(no_key=True, of=("self",)).filter(
        state=ServiceSession.State.QUEUED
    )
    if full_groups:  # the groups whose seats are full: only their overflowed customers are left
        queued = overflow_alias(queued).filter(~Q(skill_group_id__in=full_groups) | overflowed_q(now))
    return queued.order_by("queued_at", "pk").select_related("customer", "skill_group").first()


def queue_drain(*, limit: int = 1000) -> int:
    """Assign queued sessions, oldest first, while seats have room; then re-announce positions.

    1. Lock the oldest queued session left (waiting for it, never skipping it) and claim a seat
       for it (``session_seat_claim``: its group's seats, any seat once it overflows).
    2. No seat for a customer any seat may take: every seat is full, stop. No seat for a customer
       of a group: that group is full; go on with the customers of the other groups (and the
       overflowed ones of this group), oldest first.

    Each assignment is its own transaction, holding the session row's lock while it claims a
    seat. Several workers may drain at once: one waits for the other's head row instead of skipping
    it, so the last free place always goes to the oldest customer (with ``skip_locked`` a younger
    one could take it while the older one's claim was still in flight). With no skill groups in
    use this is the plain oldest-first drain.
    """
    config = ServiceSettings.load()
    assigned = 0
    full_groups: set[int] = set()
    while assigned < limit:
        with transaction.atomic():
            now = timezone.now()
            session = _drain_head(full_groups=full_groups, now=now)
            if session is None:
                break
            seat = session_seat_claim(session=session, now=now)
            if seat is None:
                if session.skill_group_id is None or session_overflowed(session=session, now=now):
                    break
                full_groups.add(session.skill_group_id)
                continue
            session_assign(session=session, seat=seat, config=config)
            assigned += 1
    if assigned:
        queue_changed_publish()  # once per drain, not per customer: each console reloads its panel
        queue_announce_positions()
    return assigned


def queue_announce_positions() -> None:
    """Tell each queued customer whose position changed; positions come from one ordered scan."""
    now = timezone.now()
    queued = ServiceSession.objects.filter(state=ServiceSession.State.QUEUED).order_by("queued_at", "pk")
    rows = list(
        queued.values_list("pk", "announced_position", "skill_group_id", "queued_at", "skill_group__overflow_minutes")
    )
    positions = queue_positions(
        (
            session_id,
            group_id,
            group_id is None or _overflow_passed(queued_at=queued_at, minutes=minutes, now=now),
        )
        for session_id, _announced, group_id, queued_at, minutes in rows
    )
    for session_id, announced, *_ in rows:
        if announced == positions[session_id]:
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
