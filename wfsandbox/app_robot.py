"""The robot API, ``/robot/*`` on the robot port (§2, §4.1), signed with each robot's own secret."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from aiohttp import web

from wfsandbox.body import JsonObject, SendMessageData, get_int, opt_str, parse_body
from wfsandbox.errors import ApiError, BadRequestBody, ErrorCode
from wfsandbox.signing import check_robot
from wfsandbox.store import Robot, user_changed
from wfsandbox.wire import (
    LOG_RID,
    SERVICES,
    Services,
    bare_500,
    envelope,
    injected_fault,
    now_ms,
    precheck_failure,
    route_table,
)


@dataclass
class RobotCall:
    services: Services
    robot: Robot
    raw_body: bytes

    def body(self) -> JsonObject | None:
        """Parsed only by the actions that read a body, as the server does (so ``profile`` ignores junk)."""
        return parse_body(self.raw_body)


RobotAction = Callable[[RobotCall], object]


def send_message(call: RobotCall) -> object:
    """The body's ``sender`` is replaced by the robot; a robot is checked like a client (§4.1)."""
    data = SendMessageData.from_body(call.body())
    if data is None:
        raise ApiError(ErrorCode.INVALID_PARAMETER)
    return call.services.router.send(sender=call.robot.user_id, data=data, source="robot").to_json()


def find_user(services: Services, body: JsonObject | None) -> JsonObject:
    """Shared by ``/robot/user_info`` and ``/admin/user/get_info``: by userId, else name, else mobile."""
    if body is None:
        raise ApiError(ErrorCode.INVALID_PARAMETER)
    store = services.store
    user_id, name, mobile = opt_str(body, "userId"), opt_str(body, "name"), opt_str(body, "mobile")
    if user_id:
        user = store.user_get(user_id)
    elif name:
        user = store.user_by_name(name)
    elif mobile:
        user = store.user_by_mobile(mobile)
    else:
        raise ApiError(ErrorCode.INVALID_PARAMETER)
    if user is None:
        raise ApiError(ErrorCode.NOT_EXIST)
    return user.to_json()


def user_info(call: RobotCall) -> object:
    return find_user(call.services, call.body())


def profile(call: RobotCall) -> object:
    user = call.services.store.user_get(call.robot.user_id)
    if user is None:
        raise ApiError(ErrorCode.NOT_EXIST)
    return call.robot.to_json(user, with_secret=False)


# MyInfoType → user field; 3 (mobile) is deliberately absent: robots may not change their mobile.
_PROFILE_FIELDS = {0: "display_name", 1: "portrait", 4: "email", 5: "address", 6: "company", 7: "social", 8: "extra"}
_MODIFY_GENDER = 2


def update_profile(call: RobotCall) -> object:
    """``{intValue, strValue}`` (the code's names, §4.1); unknown ``intValue`` succeeds without a change.

    A null body or a null ``strValue`` for a known field is a NullPointerException in the server, and
    a non-numeric gender a NumberFormatException: both answer HTTP 500.
    """
    body = call.body()
    if body is None:
        raise BadRequestBody("no body")
    field, value = get_int(body, "intValue"), opt_str(body, "strValue")
    if field != _MODIFY_GENDER and field not in _PROFILE_FIELDS:
        return None
    if value is None:
        raise BadRequestBody("strValue is null")
    store = call.services.store
    user = store.user_get(call.robot.user_id)
    if user is None:
        raise BadRequestBody("the robot has no user row")
    if field == _MODIFY_GENDER:
        try:
            gender = int(value)
        except ValueError:
            raise BadRequestBody("gender is not a number") from None
        updated = user_changed(user, update_dt=now_ms(), gender=gender)
    else:
        updated = user_changed(user, update_dt=now_ms(), strings={_PROFILE_FIELDS[field]: value})
    store.user_put(updated)
    return None


def set_callback(call: RobotCall) -> object:
    """The quirk (§4.1): the URL changes only if it differs AND ``state`` ≠ 1; success either way."""
    body = call.body()
    if body is None:
        raise BadRequestBody("no body")
    url = opt_str(body, "url")
    if not url:
        raise ApiError(ErrorCode.INVALID_PARAMETER)
    robot = call.robot
    if url != robot.callback and robot.state != 1:
        call.services.store.robot_put(replace(robot, callback=url, state=1))
    return None


def get_callback(call: RobotCall) -> object:
    return {"url": call.robot.callback}


def delete_callback(call: RobotCall) -> object:
    call.services.store.robot_put(replace(call.robot, callback="", state=0))
    return None


ROBOT_ACTIONS: dict[str, RobotAction] = {
    "/robot/message/send": send_message,
    "/robot/user_info": user_info,
    "/robot/profile": profile,
    "/robot/update_profile": update_profile,
    "/robot/set_callback": set_callback,
    "/robot/get_callback": get_callback,
    "/robot/delete_callback": delete_callback,
}


async def robot_api(request: web.Request) -> web.StreamResponse:
    """Route, then pre-check (§2.3), then run the action; any throw in between is a bare 500 (§1)."""
    # Every robot action is @HttpMethod("POST"); any other method finds nothing (ServerSetting).
    action = ROBOT_ACTIONS.get(request.path) if route_table(request.method) == "POST" else None
    if action is None:
        return bare_500()
    fault = await injected_fault(request, "robot")
    if fault is not None:
        return fault
    services = request.app[SERVICES]

    def robot_secret(rid: str) -> str | None:
        robot = services.store.robot_get(rid)
        return None if robot is None else robot.secret

    code, rid = check_robot(
        request.headers, limiter=services.runtime.robot_limiter, robot_secret=robot_secret, now_ms=now_ms()
    )
    request[LOG_RID] = rid
    if code != ErrorCode.SUCCESS:
        return precheck_failure(request, code)
    robot = services.store.robot_get(rid)
    if robot is None:  # destroyed between the check and here; cannot happen on one event loop
        return precheck_failure(request, ErrorCode.NOT_EXIST)
    try:
        result = action(RobotCall(services, robot, await request.read()))
    except BadRequestBody:
        return bare_500()
    except ApiError as exc:
        return envelope(request, exc.code, msg=exc.msg)
    return envelope(request, ErrorCode.SUCCESS, result)


def add_routes(app: web.Application) -> None:
    app.router.add_route("*", "/robot/{tail:.*}", robot_api)
