"""A chat's wrap-up: the tags and short summary its servicer gives it when it ends."""

from __future__ import annotations

from collections.abc import Sequence

from django.db import transaction
from django.utils.translation import gettext as _

from cs_project.errors import ApplicationError
from seats.models import Seat
from sessions_app.flow.customers import tags_resolve
from sessions_app.models import ServiceSession, SessionWrapUp

SUMMARY_MAX_LENGTH = 1000
WRAP_UP_TAGS_MAX = 10


def wrap_up_given(*, tags: Sequence[str], summary: str) -> bool:
    return bool(summary.strip()) or any(name.strip() for name in tags)


def session_wrap_up_write(*, session: ServiceSession, seat: Seat, tags: Sequence[str], summary: str) -> SessionWrapUp:
    """Keep ``seat``'s wrap-up of ``session``, replacing an earlier one (the caller checked that
    the seat served it)."""
    summary = summary.strip()
    if len(summary) > SUMMARY_MAX_LENGTH:
        raise ApplicationError(
            _("The summary may have at most %(count)d characters.") % {"count": SUMMARY_MAX_LENGTH},
            code="summary_too_long",
        )
    names = [name for name in tags if name.strip()]
    if len(names) > WRAP_UP_TAGS_MAX:
        raise ApplicationError(
            _("A wrap-up may have at most %(count)d tags.") % {"count": WRAP_UP_TAGS_MAX}, code="too_many_tags"
        )
    resolved = tags_resolve(names)
    wrap_up, _created = SessionWrapUp.objects.update_or_create(
        session=session, defaults={"summary": summary, "seat": seat}
    )
    wrap_up.tags.set(resolved)
    return wrap_up


@transaction.atomic
def session_wrap_up(*, session_id: int, seat: Seat, tags: Sequence[str], summary: str) -> SessionWrapUp:
    """Write the wrap-up of a session the seat serves or served last (one that ended while it was
    with them: the customer left, or it went idle)."""
    session = ServiceSession.objects.filter(pk=session_id).first()
    if session is None:
        raise ApplicationError(_("This session does not exist."), code="not_found", status=404)
    if session.seat_id != seat.pk:
        raise ApplicationError(
            _("Only the servicer who served this session can wrap it up."), code="not_owner", status=403
        )
    if not wrap_up_given(tags=tags, summary=summary):
        raise ApplicationError(_("Give at least one tag or a summary."), code="wrap_up_empty")
    return session_wrap_up_write(session=session, seat=seat, tags=tags, summary=summary)
