"""Ratings: the signed single-use link, and recording a rating by any of its three ways."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from cs_project.errors import ApplicationError
from cs_project.json_input import storable_text
from ratings.models import Rating
from robots.models import InboundMessage
from robots.wfprotocol import CallbackFormatError, CsControl, MessagePayload, control_data
from sessions_app.flow.servicer_im import servicer_im_rated
from sessions_app.flow.transcript import customer_tell, customer_text, transcript_in_from_im
from sessions_app.models import Customer, ServiceSession

_SALT = "ratings.link"
LINK_MAX_AGE_SECONDS = 7 * 24 * 3600


def rating_token(*, session: ServiceSession) -> str:
    return signing.dumps({"s": session.pk}, salt=_SALT, compress=True)


def rating_url(*, session: ServiceSession) -> str:
    return settings.CS_PUBLIC_URL + reverse("ratings:form", kwargs={"token": rating_token(session=session)})


def rating_session_from_token(*, token: str) -> ServiceSession:
    try:
        data = signing.loads(token, salt=_SALT, max_age=LINK_MAX_AGE_SECONDS)
    except signing.SignatureExpired:
        raise ApplicationError(gettext("This rating link has expired."), code="expired", status=410) from None
    except signing.BadSignature:
        raise ApplicationError(gettext("This rating link is not valid."), code="bad_link", status=404) from None
    session = ServiceSession.objects.filter(pk=data.get("s"), rated_seat__isnull=False).first()
    if session is None:
        raise ApplicationError(gettext("This rating link is not valid."), code="bad_link", status=404)
    return session


def rating_chat_session_lock(*, customer_id: int) -> ServiceSession | None:
    """The session a rating sent in the chat (a digit, or the client's rating message) is for, locked:
    the customer's latest closed session still waiting for one, closed no longer ago than a rating
    link stays valid. Opening a new session withdraws the offer (``awaiting_rating_digit``)."""
    return (
        ServiceSession.objects.select_for_update(no_key=True, of=("self",))
        .filter(
            customer_id=customer_id,
            state=ServiceSession.State.CLOSED,
            awaiting_rating_digit=True,
            closed_at__gte=timezone.now() - timedelta(seconds=LINK_MAX_AGE_SECONDS),
        )
        .order_by("-closed_at")
        .first()
    )


@transaction.atomic
def rating_record(*, session: ServiceSession, score: int, comment: str = "", channel: Rating.Channel) -> Rating:
    """One rating per session, credited to the seat fixed when the prompt was sent, who hears of it
    in their IM app."""
    if session.rated_seat_id is None:
        raise ApplicationError(gettext("This session was not offered a rating."), code="not_rateable", status=409)
    if not 1 <= score <= 5:
        raise ApplicationError(gettext("The score must be between 1 and 5."), code="bad_score")
    try:
        with transaction.atomic():
            rating = Rating.objects.create(
                session=session, seat_id=session.rated_seat_id, score=score, comment=comment[:1000], channel=channel
            )
    except IntegrityError:
        raise ApplicationError(
            gettext("This session has already been rated."), code="already_rated", status=409
        ) from None
    ServiceSession.objects.filter(pk=session.pk).update(awaiting_rating_digit=False)
    servicer_im_rated(session=session, score=rating.score, comment=rating.comment)
    return rating


def rating_from_chat(
    *, customer: Customer, inbound: InboundMessage, payload: MessagePayload, control: CsControl | None
) -> bool:
    """A rating answered in the chat (a digit, or the rating control message) after a close.

    Registered with the flow (sessions_app.hooks) as its reply-after-close: True when the message
    was a rating for the customer's last closed session, handled here."""
    last = rating_chat_session_lock(customer_id=customer.pk)
    if last is None:
        return False
    if control == CsControl.RATING:
        try:
            data = control_data(payload)
        except CallbackFormatError:
            return True
        score, comment = data.get("score"), data.get("comment", "")
        if isinstance(score, int) and not isinstance(score, bool) and 1 <= score <= 5:
            # A comment is kept even when it holds what PostgreSQL cannot store (a NUL): the rating counts.
            comment_text = storable_text(str(comment))
            rating_record(session=last, score=score, comment=comment_text, channel=Rating.Channel.CONTROL)
        return True
    text = customer_text(payload)
    if len(text) == 1 and text in "12345":
        transcript_in_from_im(session=last, inbound=inbound, payload=payload)  # no session is open to hold it
        rating_record(session=last, score=int(text), channel=Rating.Channel.CHAT_DIGIT)
        with translation.override(last.language):
            customer_tell(session=last, text=gettext("Thank you for your rating!"))
        return True
    return False
