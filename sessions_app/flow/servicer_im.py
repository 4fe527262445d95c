"""The servicer's Wildfire app in step with the console (docs/client-protocol.md, "A servicer's
IM app"): what happens in the console shows in the servicer's IM conversation with the customer's
shadow, after the customer's messages that the shadow relays there, in order (one outbox key).

- A copy of each reply the servicer writes in the console (``cs.echo`` in ``extra``).
- Notices: the session is theirs (the handover, ``flow.assignment``), was transferred away, ended,
  was rated (``cs.notice``).

Both are marked in ``extra`` so that one sent back to the shadow (a forward) is never relayed to
the customer (``servicer_reply_from_im``). Their texts are P-text (type 9): shown, but not counted
as unread, since nothing in them waits for an answer. A seat with no IM account gets none of it.
Texts are in the servicers' language, ``LANGUAGE_CODE`` (seats have no language of their own).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext

from robots.models import OutboundMessage
from robots.outbox import ShadowSend, outbox_enqueue
from robots.wfprotocol import (
    ContentType,
    MessagePayload,
    PersistFlag,
    ServicerNotice,
    p_text_payload,
    servicer_echo_extra,
    servicer_notice_extra,
)
from seats.models import Seat
from sessions_app.models import ServiceSession

Reason = ServiceSession.CloseReason


def servicer_im_echoes(*, session: ServiceSession, seat: Seat, payload: MessagePayload) -> list[ShadowSend]:
    """The copies of a console reply for the seat's IM app, to go into the outbox with the reply.

    A text's copy is the text after a prefix that says who wrote it, since a stock client shows it
    as the customer's (the shadow's); an image or a file comes after a line that says so."""
    if not seat.im_user_id:
        return []
    with translation.override(settings.LANGUAGE_CODE):
        prefix = gettext("[Me, in the console] ")
        if payload.type == ContentType.IMAGE:
            caption: str | None = gettext("[Image]")
        elif payload.type == ContentType.FILE:
            caption = f"{gettext('[File]')} {payload.searchable_content}"
        else:
            caption = None

    def extra(*, is_caption: bool = False) -> str:
        return servicer_echo_extra(
            session_id=str(session.pk),
            servicer_id=str(seat.pk),
            name=seat.display_name,
            avatar=seat.avatar_url,
            prefix=prefix,
            caption=is_caption,
        )

    if caption is None:
        copies = [p_text_payload(prefix + payload.searchable_content, extra=extra())]
    else:
        media = replace(payload, extra=extra(), persist_flag=int(PersistFlag.PERSIST_AND_COUNT))
        copies = [p_text_payload(prefix + caption, extra=extra(is_caption=True)), media]
    customer = session.customer.im_user_id
    return [ShadowSend(shadow_of=customer, target_user_id=seat.im_user_id, payload=copy) for copy in copies]


def _notify(
    *,
    session_id: int,
    customer_im_user_id: str,
    seat_im_user_id: str,
    notice: ServicerNotice,
    text: str,
    detail: Mapping[str, object],
) -> None:
    """A notice about a session from the customer's shadow to a seat's IM account, if it has one."""
    if not seat_im_user_id:
        return
    extra = servicer_notice_extra(notice=notice, session_id=str(session_id), detail=detail)
    outbox_enqueue(
        sender_kind=OutboundMessage.SenderKind.SHADOW,
        shadow_of=customer_im_user_id,
        target_user_id=seat_im_user_id,
        payload=p_text_payload(text, extra=extra),
    )


def servicer_im_transferred_away(*, session: ServiceSession, from_seat: Seat, to_seat: Seat, note: str) -> None:
    """Tell the seat that handed the session on: to whom, with the note."""
    with translation.override(settings.LANGUAGE_CODE):
        values = {"session": session.pk, "name": to_seat.display_name, "note": note}
        if note:
            text = gettext("[Chat #%(session)s transferred] Now with %(name)s. Note: %(note)s") % values
        else:
            text = gettext("[Chat #%(session)s transferred] Now with %(name)s.") % values
    _notify(
        session_id=session.pk,
        customer_im_user_id=session.customer.im_user_id,
        seat_im_user_id=from_seat.im_user_id,
        notice=ServicerNotice.TRANSFERRED_OUT,
        text=text,
        detail={"to": {"id": str(to_seat.pk), "name": to_seat.display_name}, "note": note},
    )


def servicer_im_closed(*, session: ServiceSession, seat: Seat, reason: Reason) -> None:
    """Tell the seat that served the session that it ended, and why."""
    with translation.override(settings.LANGUAGE_CODE):
        why = {
            Reason.CUSTOMER_EXIT: gettext("The customer ended the chat."),
            Reason.SERVICER_END: gettext("You ended the chat."),
            Reason.SUPERVISOR_END: gettext("A supervisor ended the chat."),
            Reason.IDLE_TIMEOUT: gettext("Nobody wrote for too long."),
        }.get(reason, "")
        text = gettext("[Chat #%(session)s ended] %(why)s") % {"session": session.pk, "why": why}
    _notify(
        session_id=session.pk,
        customer_im_user_id=session.customer.im_user_id,
        seat_im_user_id=seat.im_user_id,
        notice=ServicerNotice.CLOSED,
        text=text.strip(),
        detail={"reason": str(reason)},
    )


def servicer_im_rated(*, session: ServiceSession, score: int, comment: str) -> None:
    """Tell the rated seat (the one that served the session when the rating was asked for) the
    customer's score and comment."""
    row = (
        ServiceSession.objects.filter(pk=session.pk)
        .values_list("rated_seat__im_user_id", "customer__im_user_id")
        .first()
    )
    if row is None or not row[0]:
        return
    seat_im_user_id, customer_im_user_id = row
    stars = "★" * score + "☆" * (5 - score)
    with translation.override(settings.LANGUAGE_CODE):
        text = gettext("[Chat #%(session)s rated] %(stars)s (%(score)s/5)") % {
            "session": session.pk,
            "stars": stars,
            "score": score,
        }
        if comment:
            text += gettext(" Comment: %(comment)s") % {"comment": comment}
    _notify(
        session_id=session.pk,
        customer_im_user_id=customer_im_user_id,
        seat_im_user_id=seat_im_user_id,
        notice=ServicerNotice.RATED,
        text=text,
        detail={"score": score, "comment": comment},
    )


def servicer_im_copy_refused(*, customer_im_id: str, sender_im_id: str) -> None:
    """A message we wrote to a servicer came back to the shadow (a forward): it is not relayed."""
    with translation.override(settings.LANGUAGE_CODE):
        text = gettext("This message came from the customer-service system; it was not sent to the customer.")
    outbox_enqueue(
        sender_kind=OutboundMessage.SenderKind.SHADOW,
        shadow_of=customer_im_id,
        target_user_id=sender_im_id,
        payload=p_text_payload(text),
    )
