"""The servicer console's live link: one websocket per open console, at ``ws/console/``.

Client to server, one JSON object per frame: ``{"action": ..., "request_id": ..., ...}``
    reply {session_id, text}            end {session_id}
    transfer {session_id, to_seat_id, note}
    status {status: "online" | "away"}  resync {sessions: {"<session id>": <last seq seen>}}
    ping {}
Server to client: every event of ``sessions_app.events`` as it is (``{"type": "message.new", ...}``),
plus ``hello`` on connect, ``ack`` / ``error`` answering an action (``request_id`` echoed).
Close codes: 4401 not logged in (or logged out since), 4403 the user has no seat.
Every error's ``reason`` is in the language of the console's page (the language switch's cookie,
else the browser's), as the errors of the REST API are; ``code`` is for programs.

Asynchronous on purpose: forwarding events, the frequent case, never waits for a thread;
only actions go to the database, through the same services as everything else. Each action
loads the seat again and leaves the ownership check to the service, under the session's lock.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Literal, TypedDict

from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.http import HttpRequest
from django.utils import translation
from django.utils.translation import gettext as _

from cs_project.errors import ApplicationError
from cs_project.json_input import MAX_DEPTH, JSONRefused, json_parse, json_problem
from robots.wfprotocol import TEXT_MAX_LENGTH, text_payload
from seats import presence
from seats.models import Seat
from seats.services import seat_status_set
from sessions_app.console import selectors
from sessions_app.console.revocation import login_group, user_group
from sessions_app.console.selectors import ConsoleSession
from sessions_app.events import CONSOLES_GROUP, ConsoleEvent, MessageEvent, message_event, seat_group
from sessions_app.flow.servicer import servicer_end_session, servicer_reply
from sessions_app.flow.transfer import session_transfer

logger = logging.getLogger(__name__)

CLOSE_NOT_LOGGED_IN = 4401
CLOSE_NO_SEAT = 4403
# The largest frame a console sends is a reply of TEXT_MAX_LENGTH characters, each of which JSON may
# write as twelve (an emoji as two escapes, ``\ud83d\ude00``); anything larger is refused unparsed.
FRAME_MAX_CHARS = 12 * TEXT_MAX_LENGTH + 4096
RESYNC_MESSAGES_PER_SESSION = 500

Json = dict[str, Any]


class SeatInfo(TypedDict):
    id: int
    name: str
    avatar: str
    status: str
    automatic: bool
    capacity: int
    active_sessions: int


class Hello(TypedDict):
    type: Literal["hello"]
    seat: SeatInfo


class Ack(TypedDict):
    type: Literal["ack"]
    action: str
    request_id: object
    result: Json


class Error(TypedDict):
    type: Literal["error"]
    action: str
    request_id: object
    code: str
    reason: str


def seat_info(seat: Seat) -> SeatInfo:
    return {
        "id": seat.pk,
        "name": seat.display_name,
        "avatar": seat.avatar_url,
        "status": seat.status,
        "automatic": seat.away_automatic,
        "capacity": seat.capacity,
        "active_sessions": seat.active_sessions,
    }


def scope_language(scope: dict[str, Any]) -> str:
    """The language of the console's page, chosen as ``LocaleMiddleware`` chose it for the page:
    the language switch's cookie, else the browser's Accept-Language, else the site's default."""
    request = HttpRequest()
    request.COOKIES = scope.get("cookies", {})  # channels' CookieMiddleware, in AuthMiddlewareStack
    for name, value in scope.get("headers", []):
        if name == b"accept-language":
            request.META["HTTP_ACCEPT_LANGUAGE"] = value.decode("latin-1")
    return translation.get_language_from_request(request)


def _int(content: Json, key: str) -> int:
    value = content.get(key)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ApplicationError(_("'%(field)s' must be a number.") % {"field": key}, code="bad_request")
    return value


def _text(content: Json, key: str, *, max_length: int | None = None, required: bool = True) -> str:
    """A text field; ``max_length`` None leaves the length to the service (a reply's is checked there)."""
    value = content.get(key, "")
    if not isinstance(value, str) or (required and not value.strip()):
        raise ApplicationError(_("'%(field)s' must be a non-empty text.") % {"field": key}, code="bad_request")
    if max_length is not None and len(value) > max_length:
        message = _("'%(field)s' is longer than %(max)s characters.") % {"field": key, "max": f"{max_length:,}"}
        raise ApplicationError(message, code="too_long")
    return value


def _refused_frame(reason: str) -> str:
    """``JSONRefused.reason`` (cs_project.json_input, plain Python) in the console's language."""
    reasons = {
        "is not JSON": _("Send a JSON object: this frame is not JSON."),
        f"nested deeper than {MAX_DEPTH} levels": _(
            "Send a JSON object: this frame is nested deeper than %(depth)s levels."
        )
        % {"depth": MAX_DEPTH},
        "contains a NUL character": _("Send a JSON object: this frame contains a NUL character."),
        "contains a lone surrogate (not Unicode text)": _(
            "Send a JSON object: this frame contains a lone surrogate (not Unicode text)."
        ),
        "contains a number that is not finite": _(
            "Send a JSON object: this frame contains a number that is not finite."
        ),
    }
    return reasons.get(reason) or _("Send a JSON object: this frame is refused (%(reason)s).") % {"reason": reason}


def _addressed(document: object) -> tuple[str, object]:
    """The action and request_id of a frame the input policy refused, where they pass it themselves
    (a NUL in the reply's text, not in its request_id): the console learns which request failed."""
    if not isinstance(document, dict):
        return "", None
    action, request_id = document.get("action"), document.get("request_id")
    return (
        action if isinstance(action, str) and json_problem(action) is None else "",
        request_id if json_problem(request_id) is None else None,
    )


def _resync(seat: Seat, seen: dict[int, int]) -> Json:
    """The seat's sessions now, and for each the messages after the last seq the console saw."""
    sessions: list[ConsoleSession] = selectors.console_sessions(seat=seat)
    messages: list[MessageEvent] = []
    more: list[int] = []
    for row in sessions:  # only the seat's own sessions: the ids the console sent are only looked up
        batch = selectors.messages_after(
            session_id=row["id"],
            after_seq=seen.get(row["id"], 0),
            limit=RESYNC_MESSAGES_PER_SESSION,
            seat_id=seat.pk,
        )
        messages.extend(message_event(message) for message in batch)
        if len(batch) == RESYNC_MESSAGES_PER_SESSION:
            more.append(row["id"])
    return {"sessions": sessions, "messages": messages, "more": more}


class ConsoleConsumer(AsyncJsonWebsocketConsumer):  # type: ignore[misc]  # channels is untyped
    seat_id: int | None = None
    heartbeat: asyncio.Task[None] | None = None
    language: str = settings.LANGUAGE_CODE

    async def connect(self) -> None:
        # Accepted first: only an open websocket can tell the browser why it is closed.
        await self.accept()
        self.language = scope_language(self.scope)
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_NOT_LOGGED_IN)
            return
        seat = await database_sync_to_async(selectors.seat_of)(user)
        if seat is None:
            await self.close(code=CLOSE_NO_SEAT)
            return
        self.seat_id = seat.pk
        for group in self._groups():
            await self.channel_layer.group_add(group, self.channel_name)
        await database_sync_to_async(presence.presence_connected)(seat_id=seat.pk, connection=self.channel_name)
        self.heartbeat = asyncio.create_task(self._heartbeat(seat.pk))
        seat = await database_sync_to_async(Seat.objects.get)(pk=seat.pk)
        hello: Hello = {"type": "hello", "seat": seat_info(seat)}
        await self.send_json(hello)

    async def disconnect(self, code: int) -> None:
        if self.seat_id is None:
            return
        if self.heartbeat is not None:
            self.heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.heartbeat
        for group in self._groups():
            await self.channel_layer.group_discard(group, self.channel_name)
        await database_sync_to_async(presence.presence_disconnected)(seat_id=self.seat_id, connection=self.channel_name)

    def _groups(self) -> list[str]:
        """The seat's events, every console's, and its login's and user's (console.revocation)."""
        groups = [seat_group(self.seat_id or 0), CONSOLES_GROUP, user_group(self.scope["user"].pk)]
        session_key = getattr(self.scope.get("session"), "session_key", None)
        return [*groups, login_group(session_key)] if session_key else groups

    async def _heartbeat(self, seat_id: int) -> None:
        refresh = sync_to_async(presence.presence_refresh, thread_sensitive=False)
        while True:
            await asyncio.sleep(presence.HEARTBEAT_SECONDS)
            try:
                await refresh(seat_id=seat_id, connection=self.channel_name)
            except Exception:
                logger.exception("presence heartbeat of seat %s failed", seat_id)

    # Events from sessions_app.events, one handler per type: Channels calls the method named after
    # the event's type ("message.new": message_new); a type without a handler here fails loudly.

    async def message_new(self, message: dict[str, ConsoleEvent]) -> None:
        await self.send_json(message["event"])

    async def session_assigned(self, message: dict[str, ConsoleEvent]) -> None:
        await self.send_json(message["event"])

    async def session_closed(self, message: dict[str, ConsoleEvent]) -> None:
        await self.send_json(message["event"])

    async def session_transferred_out(self, message: dict[str, ConsoleEvent]) -> None:
        await self.send_json(message["event"])

    async def seat_status(self, message: dict[str, ConsoleEvent]) -> None:
        await self.send_json(message["event"])

    async def left_message_new(self, message: dict[str, ConsoleEvent]) -> None:
        await self.send_json(message["event"])

    async def left_message_handled(self, message: dict[str, ConsoleEvent]) -> None:
        await self.send_json(message["event"])

    async def customer_updated(self, message: dict[str, ConsoleEvent]) -> None:
        await self.send_json(message["event"])

    async def queue_changed(self, message: dict[str, ConsoleEvent]) -> None:
        await self.send_json(message["event"])

    async def console_revoked(self, message: dict[str, str]) -> None:
        """The login ended (logged out, or the user deactivated): close now, not at the next action."""
        await self.close(code=CLOSE_NOT_LOGGED_IN)

    # Actions from the console.

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: object) -> None:
        """Every frame gets an answer: one that is not a JSON text, or not one the project's input
        policy takes (binary, too large, too deeply nested, a NUL or a lone surrogate anywhere, not
        JSON), an error frame with the reason, and the socket stays open. Answered in the console's
        language, the services' errors too: the language reaches their thread (asgiref's ``Local``
        travels with ``sync_to_async``)."""
        with translation.override(self.language):
            await self._receive_in_language(text_data)

    async def _receive_in_language(self, text_data: str | None) -> None:
        if text_data is None:
            problem = _("Send text frames holding a JSON object.")
        elif len(text_data) > FRAME_MAX_CHARS:
            problem = _("A frame may hold at most %(max)s characters.") % {"max": f"{FRAME_MAX_CHARS:,}"}
        else:
            try:
                content = json_parse(text_data)
            except JSONRefused as exc:
                error = ApplicationError(_refused_frame(exc.reason), code="bad_request")
                await self._error(*_addressed(exc.document), error)
                return
            await self.receive_json(content)
            return
        await self._error("", None, ApplicationError(problem, code="bad_request"))

    async def receive_json(self, content: object, **kwargs: object) -> None:
        if not isinstance(content, dict):
            await self._error("", None, ApplicationError(_("Send a JSON object."), code="bad_request"))
            return
        action, request_id = str(content.get("action", "")), content.get("request_id")
        handler = self._actions().get(action)
        if handler is None:
            await self._error(action, request_id, ApplicationError(_("Unknown action."), code="unknown_action"))
            return
        seat = await database_sync_to_async(self._current_seat)()
        if seat is None:
            await self.close(code=CLOSE_NOT_LOGGED_IN)
            return
        try:
            result = await handler(seat, content)
        except ApplicationError as exc:
            await self._error(action, request_id, exc)
            return
        ack: Ack = {"type": "ack", "action": action, "request_id": request_id, "result": result}
        await self.send_json(ack)

    def _actions(self) -> dict[str, Callable[[Seat, Json], Awaitable[Json]]]:
        return {
            "reply": self.action_reply,
            "end": self.action_end,
            "transfer": self.action_transfer,
            "status": self.action_status,
            "resync": self.action_resync,
            "ping": self.action_ping,
        }

    def _current_seat(self) -> Seat | None:
        """The seat, loaded again for every action; None once the user logged out or lost it."""
        session = self.scope.get("session")
        if self.seat_id is None or session is None or session.session_key is None:
            return None
        if not session.exists(session.session_key):
            return None
        return Seat.objects.filter(pk=self.seat_id, user_id=self.scope["user"].pk).first()

    async def _error(self, action: str, request_id: object, exc: ApplicationError) -> None:
        error: Error = {
            "type": "error",
            "action": action,
            "request_id": request_id,
            "code": exc.code,
            "reason": exc.message,
        }
        await self.send_json(error)

    async def action_reply(self, seat: Seat, content: Json) -> Json:
        session_id, text = _int(content, "session_id"), _text(content, "text")
        message = await database_sync_to_async(servicer_reply)(
            session_id=session_id, seat=seat, payload=text_payload(text)
        )
        return {"session_id": session_id, "seq": message.seq}

    async def action_end(self, seat: Seat, content: Json) -> Json:
        session_id = _int(content, "session_id")
        await database_sync_to_async(servicer_end_session)(session_id=session_id, seat=seat)
        return {"session_id": session_id}

    async def action_transfer(self, seat: Seat, content: Json) -> Json:
        session_id, to_seat_id = _int(content, "session_id"), _int(content, "to_seat_id")
        note = _text(content, "note", max_length=500, required=False)
        await database_sync_to_async(session_transfer)(
            session_id=session_id, from_seat=seat, to_seat_id=to_seat_id, note=note
        )
        return {"session_id": session_id, "to_seat_id": to_seat_id}

    async def action_status(self, seat: Seat, content: Json) -> Json:
        status = content.get("status")
        if status not in (Seat.Status.ONLINE, Seat.Status.AWAY):
            raise ApplicationError(_("'status' must be online or away."), code="bad_request")
        seat = await database_sync_to_async(seat_status_set)(seat=seat, status=Seat.Status(status))
        return {"seat": seat_info(seat)}

    async def action_resync(self, seat: Seat, content: Json) -> Json:
        raw = content.get("sessions", {})
        refusal = ApplicationError(_("'sessions' must map session ids to sequence numbers."), code="bad_request")
        if not isinstance(raw, dict):
            raise refusal
        try:
            seen = {int(key): int(value) for key, value in raw.items()}
        except (TypeError, ValueError):
            raise refusal from None
        result: Json = await database_sync_to_async(_resync)(seat, seen)
        return result

    async def action_ping(self, seat: Seat, content: Json) -> Json:
        return {"pong": True}
