"""The sandbox's own API under ``/sandbox/api/`` on the robot port: unsigned, for tests and the pages.

Nothing here exists on a real Wildfire server. See ``wfsandbox/README.md`` for the contract.
"""

from __future__ import annotations

import json
import re

from aiohttp import web

from wfsandbox.app_admin import new_short_id
from wfsandbox.body import JsonObject, SendMessageData
from wfsandbox.errors import ApiError, BadRequestBody, ErrorCode
from wfsandbox.store import USER_TYPE_NORMAL, NameTaken, User
from wfsandbox.wire import SERVICES, envelope, json_response, now_ms

_USER_ID = re.compile(r"[A-Za-z0-9_.@-]{1,64}")


def _bad_request(message: str) -> web.Response:
    return json_response({"error": message}, status=400)


async def _json_object(request: web.Request) -> JsonObject | None:
    try:
        value = json.loads(await request.read() or b"null")
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


async def messages(request: web.Request) -> web.StreamResponse:
    """``GET ?user=<uid>[&after=<messageUid>]``: the user's inbox, oldest first."""
    user = request.query.get("user", "")
    if not user:
        return _bad_request("the user parameter is required")
    after_text = request.query.get("after", "0") or "0"
    if not after_text.isdigit():
        return _bad_request("after must be a messageUid (a non-negative integer)")
    store = request.app[SERVICES].store
    return json_response([m.to_inbox_json() for m in store.inbox(user, after=int(after_text))])


async def get_config(request: web.Request) -> web.StreamResponse:
    return json_response(request.app[SERVICES].runtime.to_json())


async def post_config(request: web.Request) -> web.StreamResponse:
    patch = await _json_object(request)
    if patch is None:
        return _bad_request("the body must be a JSON object")
    runtime = request.app[SERVICES].runtime
    try:
        runtime.apply(patch)
    except ValueError as exc:
        return _bad_request(str(exc))
    return json_response(runtime.to_json())


async def client_send(request: web.Request) -> web.StreamResponse:
    """``{sender, conv, payload, toUsers?}``: what the sender's Wildfire client does; answered with the
    robot API's envelope (``result: {messageUid, timestamp}`` or an error code)."""
    body = await _json_object(request)
    if body is None or not isinstance(body.get("sender"), str) or not body["sender"]:
        return _bad_request("the body must be a JSON object with a sender")
    services = request.app[SERVICES]
    try:
        if services.store.user_get(body["sender"]) is None:
            raise ApiError(ErrorCode.NOT_EXIST, "no such sender")
        data = SendMessageData.from_body(body)
        if data is None:
            raise ApiError(ErrorCode.INVALID_PARAMETER)
        result = services.router.send(sender=body["sender"], data=data, source="user")
    except BadRequestBody as exc:
        return _bad_request(str(exc))
    except ApiError as exc:
        return envelope(request, exc.code, msg=exc.msg)
    return envelope(request, ErrorCode.SUCCESS, result.to_json())


async def list_users(request: web.Request) -> web.StreamResponse:
    """``GET [?type=N]``: users (robots are type 1), oldest first."""
    type_text = request.query.get("type")
    if type_text is not None and not type_text.isdigit():
        return _bad_request("type must be a user type number")
    store = request.app[SERVICES].store
    users = store.users(user_type=int(type_text) if type_text is not None else None)
    return json_response([user.to_json() for user in users])


async def create_user(request: web.Request) -> web.StreamResponse:
    """``{userId?, displayName?, portrait?}``: a normal user (as the app server would register one).
    An existing id is returned unchanged; a missing id is generated."""
    body = await _json_object(request)
    if body is None:
        return _bad_request("the body must be a JSON object")
    user_id, display_name, portrait = (
        body.get("userId") or "",
        body.get("displayName") or "",
        body.get("portrait") or "",
    )
    if not all(isinstance(v, str) for v in (user_id, display_name, portrait)):
        return _bad_request("userId, displayName and portrait must be strings")
    if user_id and not _USER_ID.fullmatch(user_id):
        return _bad_request("userId may use letters, digits and _ . @ - (at most 64)")
    store = request.app[SERVICES].store
    existing = store.user_get(user_id) if user_id else None
    if existing is not None:
        return json_response(existing.to_json())
    user_id = user_id or new_short_id()
    user = User(
        user_id=user_id,
        name=user_id,
        display_name=display_name or user_id,
        portrait=portrait,
        type=USER_TYPE_NORMAL,
        update_dt=now_ms(),
    )
    try:
        store.user_put(user)
    except NameTaken:
        return _bad_request("another user already has this id as its name")
    return json_response(user.to_json(), status=201)


async def callbacks(request: web.Request) -> web.StreamResponse:
    """The latest robot callback attempts (URLs without their query), oldest first."""
    dispatcher = request.app[SERVICES].callbacks
    return json_response(
        {"pending": dispatcher.pending, "attempts": [attempt.to_json() for attempt in dispatcher.attempts]}
    )


def add_routes(app: web.Application) -> None:
    app.router.add_get("/sandbox/api/messages", messages)
    app.router.add_get("/sandbox/api/config", get_config)
    app.router.add_post("/sandbox/api/config", post_config)
    app.router.add_post("/sandbox/api/client/send", client_send)
    app.router.add_get("/sandbox/api/users", list_users)
    app.router.add_post("/sandbox/api/users", create_user)
    app.router.add_get("/sandbox/api/callbacks", callbacks)
