"""The admin (server) API, ``/admin/*`` on the admin port (§2, §6), signed with the admin secret."""

from __future__ import annotations

import os
import secrets
import string
from collections.abc import Callable
from dataclasses import dataclass

from aiohttp import web

from wfsandbox.app_robot import find_user
from wfsandbox.body import JsonObject, SendMessageData, get_int, get_str, opt_obj, opt_str, parse_body
from wfsandbox.errors import ApiError, BadRequestBody, ErrorCode
from wfsandbox.signing import check_admin
from wfsandbox.store import (
    USER_TYPE_ADMIN,
    USER_TYPE_NORMAL,
    USER_TYPE_ROBOT,
    USER_TYPE_SUPER_ADMIN,
    NameTaken,
    Robot,
    Store,
    User,
    user_changed,
)
from wfsandbox.wire import (
    SERVICES,
    Services,
    bare_500,
    envelope,
    injected_fault,
    now_ms,
    precheck_failure,
    route_table,
)

HEALTH_PATH = "/admin/health"
_SHORT_ID_ALPHABET = string.ascii_lowercase + string.digits


@dataclass
class AdminCall:
    services: Services
    raw_body: bytes

    def body(self) -> JsonObject | None:
        return parse_body(self.raw_body)


AdminAction = Callable[[AdminCall], object]


def new_short_id() -> str:
    """Like ``getShortUUID``: a short random id for a user created without ``userId``."""
    return "".join(secrets.choice(_SHORT_ID_ALPHABET) for _ in range(10))


def _put_user(store: Store, user: User) -> None:
    try:
        store.user_put(user)
    except NameTaken:
        raise ApiError(ErrorCode.SERVER_ERROR, "user name already used by another user") from None


def _user_from_body(body: JsonObject, *, user_id: str, user_type: int, display_name: str) -> User:
    return User(
        user_id=user_id,
        name=get_str(body, "name"),
        display_name=display_name,
        portrait=get_str(body, "portrait"),
        gender=get_int(body, "gender"),
        mobile=get_str(body, "mobile"),
        email=get_str(body, "email"),
        address=get_str(body, "address"),
        company=get_str(body, "company"),
        social=get_str(body, "social"),
        extra=get_str(body, "extra"),
        type=user_type,
        update_dt=now_ms(),
    )


def robot_create(call: AdminCall) -> object:
    """An upsert of the user row (type 1) and the robot row (§6): an empty ``secret`` gets a new
    random one even on an update, an omitted ``callback`` is stored empty, ``state`` goes back to 0."""
    body = call.body()
    if body is None or not get_str(body, "name"):
        raise ApiError(ErrorCode.INVALID_PARAMETER)
    user_id = get_str(body, "userId") or new_short_id()
    user = _user_from_body(body, user_id=user_id, user_type=USER_TYPE_ROBOT, display_name=get_str(body, "displayName"))
    store = call.services.store
    _put_user(store, user)
    robot = Robot(
        user_id=user_id,
        owner=get_str(body, "owner") or user_id,
        secret=get_str(body, "secret") or secrets.token_hex(16),
        callback=get_str(body, "callback"),
        state=0,
        extra=get_str(body, "robotExtra"),
    )
    store.robot_put(robot)
    return {"userId": user_id, "secret": robot.secret}


def user_create(call: AdminCall) -> object:
    """An upsert; ``type`` 0, 3 or 100 only; a given but empty ``displayName`` becomes the name."""
    body = call.body()
    if body is None or not get_str(body, "name"):
        raise ApiError(ErrorCode.INVALID_PARAMETER)
    user_type = get_int(body, "type")
    if user_type not in (USER_TYPE_NORMAL, USER_TYPE_ADMIN, USER_TYPE_SUPER_ADMIN):
        raise ApiError(ErrorCode.INVALID_PARAMETER)
    name = get_str(body, "name")
    given_display_name = opt_str(body, "displayName")
    display_name = (given_display_name or name) if given_display_name is not None else ""
    user_id = get_str(body, "userId") or new_short_id()
    _put_user(
        call.services.store, _user_from_body(body, user_id=user_id, user_type=user_type, display_name=display_name)
    )
    return {"userId": user_id, "name": name}


def user_get_info(call: AdminCall) -> object:
    return find_user(call.services, call.body())


def user_get_robot_info(call: AdminCall) -> object:
    body = call.body()
    robot_id = get_str(body, "robotId") if body is not None else ""
    if not robot_id:
        raise ApiError(ErrorCode.INVALID_PARAMETER)
    store = call.services.store
    user, robot = store.user_get(robot_id), store.robot_get(robot_id)
    if user is None or robot is None:
        raise ApiError(ErrorCode.NOT_EXIST)
    return robot.to_json(user, with_secret=True)


def user_destroy(call: AdminCall) -> object:
    """Users and robots alike; succeeds for an unknown id too, as the server's handler does."""
    body = call.body()
    user_id = get_str(body, "userId") if body is not None else ""
    if not user_id:
        raise ApiError(ErrorCode.INVALID_PARAMETER)
    call.services.store.user_destroy(user_id)
    return None


# /admin/user/update flag bits → (InputOutputUserInfo key, user field)
_UPDATE_FIELDS = (
    (0x1, "displayName", "display_name"),
    (0x2, "portrait", "portrait"),
    (0x8, "mobile", "mobile"),
    (0x10, "email", "email"),
    (0x20, "address", "address"),
    (0x40, "company", "company"),
    (0x80, "social", "social"),
    (0x100, "extra", "extra"),
    (0x200, "name", "name"),
)
_UPDATE_GENDER = 0x4


def user_update(call: AdminCall) -> object:
    """A partial update: only the fields whose bit is set in ``flag`` change (robots too)."""
    body = call.body()
    info = opt_obj(body, "userInfo") if body is not None else None
    flag = get_int(body, "flag") if body is not None else 0
    if info is None or not get_str(info, "userId") or flag <= 0:
        raise ApiError(ErrorCode.INVALID_PARAMETER)
    store = call.services.store
    user = store.user_get(get_str(info, "userId"))
    if user is None:
        raise ApiError(ErrorCode.NOT_EXIST)
    strings = {field: get_str(info, key) for bit, key, field in _UPDATE_FIELDS if flag & bit}
    gender = get_int(info, "gender") if flag & _UPDATE_GENDER else None
    _put_user(store, user_changed(user, update_dt=now_ms(), strings=strings, gender=gender))
    return None


def friend_status(call: AdminCall) -> object:
    """``status`` 0 makes friends, 1 un-friends; both directions are written unless ``status`` is 2."""
    body = call.body()
    if body is None or not get_str(body, "userId") or not get_str(body, "friendUid"):
        raise ApiError(ErrorCode.INVALID_PARAMETER)
    user_id, friend_uid = get_str(body, "userId"), get_str(body, "friendUid")
    status, extra, now = get_int(body, "status"), get_str(body, "extra"), now_ms()
    store = call.services.store
    store.friend_put(user_id, friend_uid, state=status, extra=extra, timestamp=now)
    if status != 2:
        store.friend_put(friend_uid, user_id, state=status, extra=extra, timestamp=now)
    return None


def message_send(call: AdminCall) -> object:
    """On behalf of ``sender``, without permission checks; fires robot callbacks like a client send."""
    data = SendMessageData.from_body(call.body())
    if data is None or not data.sender:
        raise ApiError(ErrorCode.INVALID_PARAMETER)
    return call.services.router.send(sender=data.sender, data=data, source="admin").to_json()


def health(call: AdminCall) -> object:
    """``HealthAction``: an array of one node ``"1"`` with its cpu, memory and disk figures. The
    memory figures are the JVM heap's there (free, max, total); the sandbox has no JVM and says 0."""
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else -1.0
    disk = os.statvfs("/")
    return [
        {
            "node": "1",
            "cpu": {"load": load, "cores": os.cpu_count() or 1},
            "memory": {"free": 0, "max": 0, "avail": 0},
            # java.io.File: getTotalSpace, getFreeSpace (root included), getUsableSpace (this user).
            "disk": {
                "space": disk.f_blocks * disk.f_frsize,
                "free": disk.f_bfree * disk.f_frsize,
                "usable": disk.f_bavail * disk.f_frsize,
            },
        }
    ]


# Every action is annotated @HttpMethod("POST") except HealthAction, which has no annotation and so
# sits in the GET table (ServerSetting.setAction).
ADMIN_ACTIONS: dict[str, AdminAction] = {
    "/admin/robot/create": robot_create,
    "/admin/user/create": user_create,
    "/admin/user/get_info": user_get_info,
    "/admin/user/get_robot_info": user_get_robot_info,
    "/admin/user/destroy": user_destroy,
    "/admin/user/update": user_update,
    "/admin/friend/status": friend_status,
    "/admin/message/send": message_send,
}
_ACTIONS_BY_TABLE: dict[str, dict[str, AdminAction]] = {"POST": ADMIN_ACTIONS, "GET": {HEALTH_PATH: health}}


async def admin_api(request: web.Request) -> web.StreamResponse:
    action = _ACTIONS_BY_TABLE.get(route_table(request.method), {}).get(request.path)
    if action is None:
        return bare_500()
    fault = await injected_fault(request, "admin")
    if fault is not None:
        return fault
    services = request.app[SERVICES]
    runtime = services.runtime
    code = check_admin(
        request.headers,
        limiter=runtime.admin_limiter,
        secret=runtime.settings.admin_secret,
        no_check_time=runtime.admin_no_check_time,
        # AdminAction compares the raw URI, query included: "/admin/health?x" must be signed.
        unsigned=request.raw_path == HEALTH_PATH,
        now_ms=now_ms(),
    )
    if code != ErrorCode.SUCCESS:
        return precheck_failure(request, code)
    try:
        result = action(AdminCall(services, await request.read()))
    except BadRequestBody:
        return bare_500()
    except ApiError as exc:
        return envelope(request, exc.code, msg=exc.msg)
    return envelope(request, ErrorCode.SUCCESS, result)


def add_routes(app: web.Application) -> None:
    app.router.add_route("*", "/admin/{tail:.*}", admin_api)
