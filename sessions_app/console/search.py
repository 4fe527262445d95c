"""Find anything: a servicer's search over their own customers, chats and messages, and the chats
they ended recently.

A servicer sees only the sessions that were theirs (``ServiceSession.seat``), open or closed.
Message texts are matched with ``ILIKE '%…%'`` on ``payload->>'searchableContent'``, which the GIN
trigram index ``message_text_trgm_idx`` (pg_trgm, migration 0008) answers quickly for any query of
three characters or more, Chinese included. A query of one or two characters has no trigram, so
the index cannot help: it is then looked for only in the servicer's most recent sessions
(``SHORT_QUERY_SESSIONS``), which stays fast whatever the size of the table. A frequent word is
found in the recent sessions first (``_message_hits``), so that the index is used only for words
it answers quickly: figures in docs/benchmarks.md, scenario ``search``.
"""

from __future__ import annotations

from typing import Any, Literal, TypedDict

from django.db.models import Expression, Lookup, Q, QuerySet
from django.db.models.fields.json import KT
from django.utils.translation import gettext as _

from cs_project.errors import ApplicationError
from seats.models import Seat
from sessions_app.models import Customer, Message, ServiceSession

QUERY_MAX_CHARS = 100
TRIGRAM_MIN_CHARS = 3
SHORT_QUERY_SESSIONS = 50
FIRST_PASS_SESSIONS = 200
CUSTOMER_HITS = 10
MESSAGE_HITS = 20
ENDED_LIMIT = 30
TRANSCRIPT_LIMIT = 2000
SNIPPET_CHARS = 90


class ILike(Lookup[Any]):
    """``lhs ILIKE rhs``: Django's ``icontains`` wraps both sides in ``UPPER()``, which no trigram
    index on the plain expression can answer; pg_trgm answers ``ILIKE`` directly."""

    lookup_name = "ilike"

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, tuple[Any, ...]]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} ILIKE {rhs}", (*lhs_params, *rhs_params)


def message_text() -> Expression:
    """The expression the trigram index is built on: keep the two identical."""
    return KT("payload__searchableContent")


def like_pattern(query: str) -> str:
    escaped = query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class CustomerHit(TypedDict):
    customer_id: int
    customer_name: str
    customer_avatar: str
    customer_im_user_id: str
    session_id: int  # the servicer's latest session with this customer
    session_state: str


class MessageHit(TypedDict):
    session_id: int
    session_state: str
    customer_id: int
    customer_name: str
    seq: int
    author: str
    text: str  # a snippet around the match
    server_timestamp: int


class SearchResult(TypedDict):
    query: str
    scope: Literal["all", "recent"]  # "recent": a 1–2 character query, looked for in recent sessions only
    customers: list[CustomerHit]
    messages: list[MessageHit]


def clean_query(query: str) -> str:
    query = " ".join(query.split())
    if not query:
        raise ApplicationError(_("Type something to search for."), code="empty_query", status=400)
    if len(query) > QUERY_MAX_CHARS:
        raise ApplicationError(
            _("A search may have at most %(max)d characters.") % {"max": QUERY_MAX_CHARS},
            code="query_too_long",
            status=400,
        )
    return query


def snippet(text: str, query: str) -> str:
    """About SNIPPET_CHARS characters of ``text`` around the first match of ``query``."""
    if len(text) <= SNIPPET_CHARS:
        return text
    at = max(text.lower().find(query.lower()), 0)
    start = max(0, min(at - SNIPPET_CHARS // 3, len(text) - SNIPPET_CHARS))
    end = start + SNIPPET_CHARS
    return ("…" if start else "") + text[start:end] + ("…" if end < len(text) else "")


def _customer_hits(*, seat: Seat, query: str) -> list[CustomerHit]:
    # The customers of one seat are few: a plain scan of them is fast enough.
    customers = (
        Customer.objects.filter(sessions__seat=seat)
        .filter(Q(display_name__icontains=query) | Q(im_user_id__icontains=query))
        .distinct()
        .order_by("display_name", "pk")[:CUSTOMER_HITS]
    )
    hits: list[CustomerHit] = []
    for customer in customers:
        latest = (
            ServiceSession.objects.filter(customer=customer, seat=seat)
            .order_by("-opened_at", "-pk")
            .only("pk", "state")
        ).first()
        if latest is None:
            continue
        hits.append(
            {
                "customer_id": customer.pk,
                "customer_name": str(customer),
                "customer_avatar": customer.avatar_url,
                "customer_im_user_id": customer.im_user_id,
                "session_id": latest.pk,
                "session_state": latest.state,
            }
        )
    return hits


def _recent_session_ids(*, seat: Seat, count: int) -> list[int]:
    sessions = ServiceSession.objects.filter(seat=seat).order_by("-opened_at", "-pk")
    return list(sessions.values_list("pk", flat=True)[:count])


def _matching_messages(*, seat: Seat, query: str, session_ids: list[int] | None) -> list[MessageHit]:
    messages = Message.objects.filter(ILike(message_text(), like_pattern(query))).exclude(
        direction=Message.Direction.INTERNAL  # a supervisor's whisper is not the customer's conversation
    )
    messages = messages.filter(session__seat=seat) if session_ids is None else messages.filter(session__in=session_ids)
    rows = (
        messages.annotate(text=message_text())
        .select_related("session__customer")
        .only("session_id", "seq", "author", "server_timestamp", "session__state", "session__customer")
        .order_by("-server_timestamp", "-pk")[:MESSAGE_HITS]
    )
    return [
        {
            "session_id": row.session_id,
            "session_state": row.session.state,
            "customer_id": row.session.customer_id,
            "customer_name": str(row.session.customer),
            "seq": row.seq,
            "author": row.author,
            "text": snippet(str(row.text or ""), query),
            "server_timestamp": row.server_timestamp,
        }
        for row in rows
    ]


def _message_hits(*, seat: Seat, query: str, recent_only: bool) -> list[MessageHit]:
    """The newest matching messages of the seat's sessions, in two passes:

    1. the seat's most recent sessions, read through the session index: cheap, and enough for a
       word found in many messages (where a trigram scan would visit every one of them);
    2. if that found fewer than MESSAGE_HITS, all the seat's sessions through the trigram index:
       the word is then rare, so the index hands back few rows.
    """
    window = SHORT_QUERY_SESSIONS if recent_only else FIRST_PASS_SESSIONS
    hits = _matching_messages(seat=seat, query=query, session_ids=_recent_session_ids(seat=seat, count=window))
    if recent_only or len(hits) >= MESSAGE_HITS:
        return hits
    return _matching_messages(seat=seat, query=query, session_ids=None)


def console_search(*, seat: Seat, query: str) -> SearchResult:
    """The seat's customers whose name or IM id contains ``query``, and the messages of the seat's
    sessions that contain it, newest first."""
    query = clean_query(query)
    recent_only = len(query) < TRIGRAM_MIN_CHARS
    return {
        "query": query,
        "scope": "recent" if recent_only else "all",
        "customers": _customer_hits(seat=seat, query=query),
        "messages": _message_hits(seat=seat, query=query, recent_only=recent_only),
    }


def ended_sessions(*, seat: Seat, limit: int = ENDED_LIMIT) -> QuerySet[ServiceSession]:
    """The seat's sessions that ended, the most recently ended first."""
    return (
        ServiceSession.objects.filter(seat=seat, state=ServiceSession.State.CLOSED)
        .select_related("customer")
        .order_by("-closed_at", "-pk")[:limit]
    )


def own_session(*, seat: Seat, session_id: int) -> ServiceSession:
    """One of the seat's sessions, open or closed; 404 for any other (whose existence is not told)."""
    session = ServiceSession.objects.select_related("customer").filter(pk=session_id, seat=seat).first()
    if session is None:
        raise ApplicationError(_("No such session of yours."), code="not_found", status=404)
    return session


def transcript_messages(*, session: ServiceSession) -> list[Message]:
    # Whispers to this session's seat (its own servicer's) stay; a former seat's do not.
    messages = Message.objects.filter(session=session).filter(
        ~Q(direction=Message.Direction.INTERNAL) | Q(seat_id=session.seat_id)
    )
    return list(messages.order_by("server_timestamp", "seq")[:TRANSCRIPT_LIMIT])
