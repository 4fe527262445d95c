"""The admin's one search box over sessions: the customer's name or IM id, the session's number
(``#12`` or ``12``), and the text of any message of the session (an order number, "发货").

Message texts are matched as the console's search matches them (``ILIKE`` on the expression the
GIN trigram index ``message_text_trgm_idx`` is built on), in one uncorrelated subquery of session
ids: PostgreSQL runs it once through the index and probes its hashed result per session, and a
session with several matching messages is listed once. A word of one or two characters has no
trigram, so the index cannot answer it: it is then looked for in the messages of the newest
``SHORT_QUERY_SESSIONS`` sessions only (a range of the message index), which stays fast whatever
the size of the table.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q, QuerySet

from sessions_app.console.search import TRIGRAM_MIN_CHARS, ILike, like_pattern, message_text
from sessions_app.models import Message, ServiceSession

SHORT_QUERY_SESSIONS = 2000


@dataclass(frozen=True)
class SessionSearch:
    sessions: QuerySet[ServiceSession]
    recent_only: bool  # a short query: its message text was looked for in the newest sessions only


def _oldest_recent_session_id() -> int | None:
    """The number of the SHORT_QUERY_SESSIONS-th newest session; None when there are fewer."""
    ids = ServiceSession.objects.order_by("-pk").values_list("pk", flat=True)
    return ids[SHORT_QUERY_SESSIONS - 1 : SHORT_QUERY_SESSIONS].first()


def sessions_search(*, sessions: QuerySet[ServiceSession], query: str) -> SessionSearch:
    """The sessions of ``sessions`` whose customer, number or any message matches ``query``."""
    query = " ".join(query.split())
    if not query:
        return SessionSearch(sessions=sessions, recent_only=False)
    matching = Message.objects.filter(ILike(message_text(), like_pattern(query)))
    recent_only = len(query) < TRIGRAM_MIN_CHARS
    if recent_only:
        oldest = _oldest_recent_session_id()
        if oldest is not None:
            matching = matching.filter(session_id__gte=oldest)
    found = (
        Q(customer__display_name__icontains=query)
        | Q(customer__im_user_id__icontains=query)
        | Q(pk__in=matching.values("session_id"))
    )
    number = query.lstrip("#")
    if number.isdigit() and len(number) < 19:  # a bigint has at most 19 digits
        found |= Q(pk=int(number))
    return SessionSearch(sessions=sessions.filter(found), recent_only=recent_only)
