"""A servicer in the Wildfire app asks a customer's shadow for that customer's history.

The servicer sends the history command (``CS_HISTORY_COMMAND``, default 历史) to the shadow; the
shadow answers them alone with one text: the customer's earlier sessions, newest first (date,
servicer, rating, first line the customer wrote other than a keyword), then the last messages of the session in
progress, or of the last one. The command is never relayed to the customer. Only a servicer who
serves or served the customer (a session of theirs, or one assigned or transferred to them) gets
it; another servicer is refused.
"""

from __future__ import annotations

from django.conf import settings
from django.db.models import F, OuterRef, Q, Subquery
from django.db.models.fields.json import KT
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from robots.models import OutboundMessage
from robots.outbox import outbox_enqueue
from robots.wfprotocol import ContentType, MessagePayload, text_payload
from seats.models import Seat
from sessions_app.flow.transcript import customer_text
from sessions_app.models import Customer, Message, ServiceSession, ServiceSettings, SessionEvent

EARLIER_SESSIONS = 5
LAST_MESSAGES = 10
FIRST_LINE_CHARS = 40
MESSAGE_CHARS = 100


def is_history_command(payload: MessagePayload) -> bool:
    return customer_text(payload) == settings.CS_HISTORY_COMMAND


def history_to_im(*, customer_im_id: str, sender_im_id: str) -> bool:
    """Answer the history command from the customer's shadow; False when the sender is no servicer
    or the customer is unknown (the caller explains that as for any other message)."""
    seat = Seat.objects.filter(im_user_id=sender_im_id).first() if sender_im_id else None
    customer = Customer.objects.filter(im_user_id=customer_im_id).first()
    if seat is None or customer is None:
        return False
    # The servicers' texts on the IM app are in the site's language (a seat has no language of its own).
    with translation.override(settings.LANGUAGE_CODE):
        if served_by(customer=customer, seat=seat):
            text = customer_history_text(customer=customer)
        else:
            text = _("You have not served this customer, so their history is not shown to you.")
    outbox_enqueue(
        sender_kind=OutboundMessage.SenderKind.SHADOW,
        shadow_of=customer_im_id,
        target_user_id=sender_im_id,
        payload=text_payload(text),
    )
    return True


def served_by(*, customer: Customer, seat: Seat) -> bool:
    """Whether ``seat`` serves or has served ``customer`` (a transfer away does not erase it)."""
    handed = Q(events__seat=seat, events__kind__in=[SessionEvent.Kind.ASSIGNED, SessionEvent.Kind.TRANSFERRED])
    return ServiceSession.objects.filter(customer=customer).filter(Q(seat=seat) | handed).exists()


def customer_history_text(*, customer: Customer) -> str:
    """The compact history: a heading, up to five earlier sessions, then the last ten messages."""
    config = ServiceSettings.load()
    keywords = config.transfer_keyword_set | config.exit_keyword_set | config.cancel_queue_keyword_set
    # The first thing the customer asked: a keyword ("转人工") says nothing about the session.
    first_lines = (
        Message.objects.filter(session=OuterRef("pk"), author=Message.Author.CUSTOMER, content_type=ContentType.TEXT)
        .annotate(text=KT("payload__searchableContent"))
        .exclude(text__in=keywords)
        .order_by("seq")
        .values("text")
    )
    sessions = list(
        ServiceSession.objects.filter(customer=customer)
        .select_related("seat")
        # The ratings app sits above this one: its row is read through the reverse relation only.
        .annotate(score=F("rating__score"), first_line=Subquery(first_lines[:1]))
        .order_by("-opened_at", "-pk")[: EARLIER_SESSIONS + 1]
    )
    current = sessions[0] if sessions and sessions[0].is_open else None
    earlier = [session for session in sessions if session is not current][:EARLIER_SESSIONS]
    lines = [_("History of customer %(name)s") % {"name": customer}]
    if earlier:
        lines.append(_("Earlier sessions, newest first:"))
        lines.extend(_session_line(session) for session in earlier)
    else:
        lines.append(_("No earlier sessions."))
    shown = current or (earlier[0] if earlier else None)
    if shown is not None:
        lines.append(_("Last messages of session #%(id)s:") % {"id": shown.pk})
        lines.extend(_message_lines(shown) or [_("No messages yet.")])
    return "\n".join(lines)


def _session_line(session: ServiceSession) -> str:
    servicer = session.seat.display_name if session.seat is not None else _("Bot only")
    score = getattr(session, "score", None)
    rating = _("rated %(score)s/5") % {"score": score} if score is not None else _("not rated")
    first_line = _shorten(str(getattr(session, "first_line", None) or ""), FIRST_LINE_CHARS) or _("(no text)")
    return "· " + _("%(date)s · %(servicer)s · %(rating)s · “%(first_line)s”") % {
        "date": timezone.localtime(session.opened_at).strftime("%Y-%m-%d %H:%M"),
        "servicer": servicer,
        "rating": rating,
        "first_line": first_line,
    }


def _message_lines(session: ServiceSession) -> list[str]:
    shown = Message.objects.filter(session=session, content_type__lt=1000).exclude(direction=Message.Direction.INTERNAL)
    recent = list(shown.order_by("-seq")[:LAST_MESSAGES])
    return [f"{Message.Author(m.author).label}: {_message_text(m)}" for m in reversed(recent)]


def _message_text(message: Message) -> str:
    if message.content_type == ContentType.TEXT:
        return _shorten(str(message.payload.get("searchableContent") or ""), MESSAGE_CHARS)
    if message.content_type == ContentType.IMAGE:
        return _("[Image]")
    if message.content_type == ContentType.FILE:
        return _("[File]")
    return _("[Message of type %(type)s]") % {"type": message.content_type}


def _shorten(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
