"""Reads with access rules: who may see which sessions and transcripts."""

from __future__ import annotations

from typing import TypedDict

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Subquery
from django.utils.translation import gettext as _

from cs_project.errors import ApplicationError
from seats.models import Seat
from seats.services import user_may_supervise
from sessions_app.models import (
    CannedReply,
    Customer,
    CustomerNote,
    LeftMessage,
    Message,
    ServiceSession,
    SessionEvent,
    Tag,
)


def seat_of(user: AbstractBaseUser | AnonymousUser) -> Seat | None:
    if not user.is_authenticated:
        return None
    return Seat.objects.filter(user_id=user.pk).first()


def customer_visible_to(
    *, user: AbstractBaseUser | AnonymousUser, customer_id: int, supervising: bool = True
) -> Customer | None:
    """Supervisors see every customer; a servicer only the customers of their open sessions.

    ``supervising=False`` leaves out the supervisor's rights: a seat's API token carries a servicer's only."""
    customer = Customer.objects.filter(pk=customer_id).first()
    if customer is None or (supervising and user_may_supervise(user)):
        return customer
    seat = seat_of(user)
    if seat is None:
        return None
    owns = ServiceSession.objects.filter(customer=customer, seat=seat, state=ServiceSession.State.HUMAN).exists()
    return customer if owns else None


def customer_known_to(*, user: AbstractBaseUser | AnonymousUser, customer_id: int) -> Customer | None:
    """Whose notes and tags a user may read and write. Supervisors: every customer; a servicer: the
    customers they serve or have served, in a session of theirs now or before, or one assigned or
    transferred to them and passed on since (the timeline keeps who had it)."""
    customers = Customer.objects.filter(pk=customer_id)
    if user_may_supervise(user):
        return customers.first()
    seat = seat_of(user)
    if seat is None:
        return None
    served = ServiceSession.objects.filter(customer=OuterRef("pk"), seat=seat)
    handed = SessionEvent.objects.filter(
        session__customer=OuterRef("pk"),
        seat=seat,
        kind__in=[SessionEvent.Kind.ASSIGNED, SessionEvent.Kind.TRANSFERRED],
    )
    return customers.filter(Exists(served) | Exists(handed)).first()


def customer_notes(*, customer: Customer) -> QuerySet[CustomerNote]:
    """Newest first, with their authors."""
    return CustomerNote.objects.filter(customer=customer).select_related("author").order_by("-created_at", "-pk")


def customer_tag_names(*, customer: Customer) -> list[str]:
    return list(customer.tags.order_by("name").values_list("name", flat=True))


def tags_matching(*, query: str, limit: int = 10) -> list[str]:
    """Tags for the console's autocomplete: those starting with ``query`` first, then those
    containing it; with no query, the most used."""
    query = " ".join(query.split())
    if not query:
        tags = Tag.objects.annotate(uses=Count("customers", distinct=True) + Count("wrap_ups", distinct=True)).order_by(
            "-uses", "name"
        )
        return list(tags.values_list("name", flat=True)[:limit])
    starting = list(Tag.objects.filter(name__istartswith=query).order_by("name").values_list("name", flat=True)[:limit])
    containing = Tag.objects.filter(name__icontains=query).exclude(name__in=starting).order_by("name")
    return starting + list(containing.values_list("name", flat=True)[: limit - len(starting)])


def session_visible_to(
    *, user: AbstractBaseUser | AnonymousUser, session_id: int, supervising: bool = True
) -> ServiceSession | None:
    session = ServiceSession.objects.select_related("customer", "seat").filter(pk=session_id).first()
    if session is None:
        return None
    if supervising and user_may_supervise(user):
        return session
    if customer_visible_to(user=user, customer_id=session.customer_id, supervising=False) is None:
        return None
    return session


def customer_history(*, customer: Customer) -> QuerySet[ServiceSession]:
    return ServiceSession.objects.filter(customer=customer).select_related("seat").order_by("-opened_at", "-pk")


def customer_facing_messages() -> QuerySet[Message]:
    """Transcript rows without supervisors' whispers: what a customer's history shows."""
    return Message.objects.exclude(direction=Message.Direction.INTERNAL)


def messages_seen_by_seat(messages: QuerySet[Message], *, seat_id: int | None) -> QuerySet[Message]:
    """A whisper is seen by the seat it was whispered to only (supervisors read them elsewhere:
    the monitor and the admin's transcript)."""
    seen = ~Q(direction=Message.Direction.INTERNAL)
    return messages.filter(seen | Q(seat_id=seat_id) if seat_id is not None else seen)


def session_messages(*, session: ServiceSession, after_seq: int = 0) -> QuerySet[Message]:
    return Message.objects.filter(session=session, seq__gt=after_seq).order_by("server_timestamp", "seq")


class ConsoleSession(TypedDict):
    """One row of a servicer's list of active sessions (REST list and websocket resync)."""

    id: int
    customer_id: int
    customer_name: str  # the IM display name, else the IM id (then the profile is being read)
    customer_avatar: str
    customer_im_user_id: str
    opened_at: str
    assigned_at: str | None
    last_seq: int
    # Server times (ms) of the customer's and the servicers' latest messages: waiting time.
    last_customer_message_at: int | None
    last_servicer_message_at: int | None
    # The note of the transfer that brought the session to this seat, if any.
    transfer_note: str
    transferred_from: str


def console_sessions(*, seat: Seat) -> list[ConsoleSession]:
    """The seat's sessions in human mode, oldest assignment first."""

    def latest(author: Message.Author) -> Subquery:
        rows = Message.objects.filter(session=OuterRef("pk"), author=author).order_by("-seq")
        return Subquery(rows.values("server_timestamp")[:1])

    transfers = SessionEvent.objects.filter(
        session=OuterRef("pk"), kind=SessionEvent.Kind.TRANSFERRED, seat=seat
    ).order_by("-at", "-pk")
    sessions = (
        ServiceSession.objects.filter(seat=seat, state=ServiceSession.State.HUMAN)
        .select_related("customer")
        .annotate(
            last_in=latest(Message.Author.CUSTOMER),
            last_out=latest(Message.Author.SERVICER),
            note=Subquery(transfers.values("detail__note")[:1]),
            from_seat_id=Subquery(transfers.values("detail__from_seat")[:1]),
        )
        .order_by("assigned_at", "pk")
    )
    rows = list(sessions)
    from_ids = {int(row.from_seat_id) for row in rows if row.from_seat_id is not None}
    names = dict(Seat.objects.filter(pk__in=from_ids).values_list("pk", "display_name"))
    return [
        {
            "id": row.pk,
            "customer_id": row.customer_id,
            "customer_name": str(row.customer),
            "customer_avatar": row.customer.avatar_url,
            "customer_im_user_id": row.customer.im_user_id,
            "opened_at": row.opened_at.isoformat(),
            "assigned_at": row.assigned_at.isoformat() if row.assigned_at else None,
            "last_seq": row.last_seq,
            "last_customer_message_at": row.last_in,
            "last_servicer_message_at": row.last_out,
            "transfer_note": str(row.note or ""),
            "transferred_from": names.get(int(row.from_seat_id), "") if row.from_seat_id is not None else "",
        }
        for row in rows
    ]


def transfer_targets(*, seat: Seat) -> QuerySet[Seat]:
    """Other seats that could take a session now: online, with room."""
    return (
        Seat.objects.filter(status=Seat.Status.ONLINE, active_sessions__lt=F("capacity"))
        .exclude(pk=seat.pk)
        .order_by("active_sessions", "display_name", "pk")
    )


def canned_replies_for(*, seat: Seat) -> QuerySet[CannedReply]:
    """The global canned replies and the seat's own; a personal one first when both use a shortcut."""
    return CannedReply.objects.filter(Q(owner__isnull=True) | Q(owner=seat)).order_by(
        "shortcut", F("owner").desc(nulls_last=True), "pk"
    )


def left_messages_unhandled() -> QuerySet[LeftMessage]:
    """Left messages nobody has handled yet, oldest first: every servicer sees all of them."""
    return LeftMessage.objects.filter(handled_at__isnull=True).select_related("customer").order_by("created_at", "pk")


def left_message_get(*, message_id: int) -> LeftMessage:
    return LeftMessage.objects.select_related("customer", "handled_by").get(pk=message_id)


def messages_after(*, session_id: int, after_seq: int, limit: int, seat_id: int | None = None) -> list[Message]:
    """Up to ``limit`` messages after ``after_seq``, in sequence order (a console catching up).

    The caller has checked that the session may be read; whispers only when to ``seat_id``."""
    messages = Message.objects.filter(session_id=session_id, seq__gt=after_seq)
    return list(messages_seen_by_seat(messages, seat_id=seat_id).order_by("seq")[:limit])


def seat_required(user: AbstractBaseUser | AnonymousUser) -> Seat:
    """The user's seat, for operations only servicers may do."""
    seat = seat_of(user)
    if seat is None:
        raise ApplicationError(_("Only servicers with a seat can do this."), code="no_seat", status=403)
    return seat


class SeatGroup(TypedDict):
    id: int
    name: str


def seat_groups(*, seat: Seat) -> list[SeatGroup]:
    """The skill groups this seat serves, in menu order (the queue panel's filter)."""
    groups = seat.skill_groups.order_by("menu_order", "name", "pk").values_list("pk", "name")
    return [{"id": pk, "name": name} for pk, name in groups]
