"""HTTP clients for the Robot API (§4, port 80) and the Admin API (§6, port 18080).

Every call is a signed POST of a JSON body (§1, §2), except the unsigned GET of ``/admin/health``,
and its answer is unwrapped from the §3 envelope: the ``result`` on code 0, an exception from
``errors`` otherwise.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from types import TracebackType
from typing import Self, TypeVar

import aiohttp
import requests
import urllib3

from robots.wfprotocol._wire import WireFormatError, WireObject, loads_strict
from robots.wfprotocol.content import robot_may_send
from robots.wfprotocol.errors import (
    WfcAuthError,
    WfcError,
    WfcHttpError,
    WfcNotFound,
    WfcOutcomeUnknown,
    WfcProtocolError,
    WfcTransportError,
    api_error,
)
from robots.wfprotocol.messages import Conversation, MessagePayload, SendResult
from robots.wfprotocol.signing import signed_headers
from robots.wfprotocol.users import ProfileField, RobotInfo, RobotUpsert, UserInfo

T = TypeVar("T")

# §1: every API call is a POST with this content type.
CONTENT_TYPE = "application/json; charset=utf-8"


def _encode(body: Mapping[str, object]) -> bytes:
    return json.dumps(body, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode("utf-8")


def _never_sent(exc: requests.ConnectionError) -> bool:
    """The connection was never made (refused, unreachable, connect timeout), as opposed to one
    dropped after the request went out ("Connection aborted")."""
    reason = exc.args[0] if exc.args else None
    reason = getattr(reason, "reason", reason)  # urllib3's MaxRetryError wraps the cause
    return isinstance(reason, urllib3.exceptions.NewConnectionError | urllib3.exceptions.ConnectTimeoutError)


def _failure_reason(exc: requests.RequestException) -> str:
    # The OS reason ("[Errno 111] Connection refused") sits at the end of a long urllib3 message.
    errno = re.search(r"\[Errno -?\d+\][^'\")]*", str(exc))
    return f"{type(exc).__name__}: {errno.group(0) if errno else 'request failed'}"


def _pair(key_a: str, key_b: str) -> Callable[[object], tuple[str, str]]:
    def parse(value: object) -> tuple[str, str]:
        wire = WireObject(value)
        return wire.req_str(key_a, non_empty=True), wire.req_str(key_b)

    return parse


def unwrap_envelope(path: str, status: int, content: bytes) -> object:
    """The §3 envelope of an answer: its ``result`` on code 0 (None when absent), else a ``WfcError``."""
    if status == 401:
        # §3 [gap]: the docs answer sign errors with 401; the code with 200 and a code.
        code, msg = _error_fields(content)
        raise WfcAuthError(msg or "unauthorized", code, status, path)
    if status in (502, 504):
        # A proxy in between forwarded the request (or may have) and got no answer in time: the
        # IM server may still act on it, as after our own read timeout.
        raise WfcOutcomeUnknown(
            f"HTTP {status} from a proxy; the server may have acted on the request", http_status=status, path=path
        )
    if status != 200:
        # §1: 500 without an envelope for a path this port does not route.
        raise WfcHttpError(f"unexpected HTTP status {status}", http_status=status, path=path)
    try:
        document = loads_strict(content)
    except ValueError:
        raise WfcTransportError("body is not JSON", http_status=status, path=path) from None
    if not isinstance(document, dict):
        raise WfcProtocolError("the envelope is not a JSON object", http_status=status, path=path)
    code = document.get("code")
    if not isinstance(code, int) or isinstance(code, bool):
        raise WfcProtocolError("the envelope has no integer code", http_status=status, path=path)
    if code != 0:
        # A failed pre-check nests a copy of the envelope in result (§3); the outer code rules.
        server_msg = document.get("msg")
        raise api_error(code, server_msg if isinstance(server_msg, str) else "", http_status=status, path=path)
    return document.get("result")


def _error_fields(content: bytes) -> tuple[int | None, str]:
    try:
        document = loads_strict(content)
    except ValueError:
        return None, ""
    if not isinstance(document, dict):
        return None, ""
    code, msg = document.get("code"), document.get("msg")
    return (
        code if isinstance(code, int) and not isinstance(code, bool) else None,
        msg if isinstance(msg, str) else "",
    )


def parse_result(path: str, result: object, parse: Callable[[object], T]) -> T:
    """A ``result`` of the shape a method needs (§4, §6 tables), or ``WfcProtocolError``."""
    if result is None:
        raise WfcProtocolError("the envelope has no result", http_status=200, path=path)
    try:
        return parse(result)
    except WireFormatError as exc:
        raise WfcProtocolError(f"{exc.located_in('result')}: {exc.reason}", http_status=200, path=path) from None


def encode_send(
    conv: Conversation, payload: MessagePayload, to_users: Sequence[str] | None = None
) -> dict[str, object]:
    """The body of §4.1 ``/robot/message/send``, refusing content types a robot may not send."""
    if not robot_may_send(payload.type):
        raise ValueError(f"robots cannot send content type {payload.type} (§4.1)")
    return {"conv": conv.to_wire(), "payload": payload.to_wire(), **_to_users(to_users)}


class _ApiClient:
    """POSTs signed JSON to one Wildfire HTTP API and unwraps the §3 envelope.

    Uses the given ``requests.Session`` (pooled, possibly shared) or its own, closed by
    ``close()``. ``timeout`` is (connect, read) seconds, or one number for both.
    """

    def __init__(
        self,
        base_url: str,
        secret: str,
        *,
        rid: str | None,
        timeout: float | tuple[float, float],
        session: requests.Session | None,
    ) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ValueError("base_url must be an http(s) URL")
        self.base_url = base_url.rstrip("/")
        self._secret = secret
        self._rid = rid
        self._timeout = timeout if isinstance(timeout, tuple) else (timeout, timeout)
        self._owns_session = session is None
        self._session = requests.Session() if session is None else session

    def close(self) -> None:
        if self._owns_session:
            self._session.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()

    def _post(self, path: str, body: Mapping[str, object] | None = None) -> object:
        """One signed call; returns the envelope's ``result``, None when it is absent (§3)."""
        headers = {
            "Content-Type": CONTENT_TYPE,
            "Accept": "application/json",
            **signed_headers(self._secret, rid=self._rid),
        }
        return self._request("POST", path, headers=headers, data=_encode(body or {}))

    def _request(self, method: str, path: str, *, headers: dict[str, str], data: bytes | None) -> object:
        try:
            # No redirects: a redirected POST would turn into a GET and carry the signature elsewhere.
            response = self._session.request(
                method,
                self.base_url + path,
                data=data,
                headers=headers,
                timeout=self._timeout,
                allow_redirects=False,
            )
        except requests.ConnectTimeout:
            raise WfcTransportError("connect timed out", path=path) from None
        except requests.Timeout:
            raise WfcOutcomeUnknown("read timed out; the server may have acted on the request", path=path) from None
        except requests.ConnectionError as exc:
            # Refused or unreachable: nothing was sent. Dropped while waiting for the answer: unknown.
            error = WfcTransportError if _never_sent(exc) else WfcOutcomeUnknown
            raise error(_failure_reason(exc), path=path) from None
        except (requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError) as exc:
            # A broken answer: the request had reached the server.
            raise WfcOutcomeUnknown(_failure_reason(exc), path=path) from None
        except requests.RequestException as exc:  # a URL that cannot be used: nothing was sent
            raise WfcTransportError(_failure_reason(exc), path=path) from None
        return unwrap_envelope(path, response.status_code, response.content)

    def _post_for(self, path: str, body: Mapping[str, object] | None, parse: Callable[[object], T]) -> T:
        """A call whose method needs a ``result`` of a given shape (§4, §6 tables)."""
        return parse_result(path, self._post(path, body), parse)


def _to_users(to_users: Sequence[str] | None) -> dict[str, object]:
    if to_users is None:
        return {}
    if isinstance(to_users, str):
        raise TypeError("to_users must be a sequence of user ids, not one string")
    return {"toUsers": list(to_users)}


class RobotClient(_ApiClient):
    """§4: the Robot API, signed with this robot's own secret and ``rid`` (§2.2)."""

    def __init__(
        self,
        base_url: str,
        robot_id: str,
        secret: str,
        *,
        timeout: float | tuple[float, float] = 5.0,
        session: requests.Session | None = None,
    ) -> None:
        if not robot_id:
            raise ValueError("robot_id must not be empty")
        super().__init__(base_url, secret, rid=robot_id, timeout=timeout, session=session)
        self.robot_id = robot_id

    def __repr__(self) -> str:
        return f"RobotClient(base_url={self.base_url!r}, robot_id={self.robot_id!r})"

    def send_message(
        self, conv: Conversation, payload: MessagePayload, *, to_users: Sequence[str] | None = None
    ) -> SendResult:
        """§4.1 ``/robot/message/send``; the server fills in the robot as sender."""
        return self._post_for("/robot/message/send", encode_send(conv, payload, to_users), SendResult.from_wire)

    def user_info(self, *, user_id: str | None = None, name: str | None = None, mobile: str | None = None) -> UserInfo:
        """§4.1 ``/robot/user_info`` by exactly one key; ``WfcNotFound`` for a missing or deleted user."""
        keys = {"userId": user_id, "name": name, "mobile": mobile}
        given = {key: value for key, value in keys.items() if value is not None}
        if len(given) != 1:
            raise ValueError("give exactly one of user_id, name, mobile")
        return self._post_for("/robot/user_info", given, UserInfo.from_wire)

    def profile(self) -> RobotInfo:
        """§4.1 ``/robot/profile``: this robot's fields, without its secret."""
        return self._post_for("/robot/profile", None, RobotInfo.from_wire)

    def update_profile(self, field: ProfileField, value: str) -> None:
        """§4.1 ``/robot/update_profile`` ``{intValue, strValue}`` (the code's names, not the docs'
        ``{type, value}``; §11.10). Gender is an int sent as a string.
        """
        self._post("/robot/update_profile", {"intValue": int(ProfileField(field)), "strValue": value})

    def set_callback(self, url: str) -> None:
        """§4.1 ``/robot/set_callback``. Only the first call after a delete or an admin create
        takes effect; later ones answer success and change nothing. See ``replace_callback``.
        """
        if not url:
            raise ValueError("url must not be empty; use delete_callback to remove it (§4.1)")
        self._post("/robot/set_callback", {"url": url})

    def replace_callback(self, url: str) -> None:
        """Delete then set, the way §4.1 says to change a callback that is already set."""
        self.delete_callback()
        self.set_callback(url)

    def get_callback(self) -> str:
        """§4.1 ``/robot/get_callback`` → ``{url}``; "" when none is set."""
        return self._post_for("/robot/get_callback", None, lambda value: WireObject(value).opt_str("url"))

    def delete_callback(self) -> None:
        """§4.1 ``/robot/delete_callback``."""
        self._post("/robot/delete_callback")


class AdminClient(_ApiClient):
    """§6: the Admin API, signed with ``http.admin.secret_key``. Keep it off the internet (§1)."""

    def __init__(
        self,
        base_url: str,
        secret: str,
        *,
        timeout: float | tuple[float, float] = 5.0,
        session: requests.Session | None = None,
    ) -> None:
        super().__init__(base_url, secret, rid=None, timeout=timeout, session=session)

    def __repr__(self) -> str:
        return f"AdminClient(base_url={self.base_url!r})"

    def create_robot(
        self,
        *,
        user_id: str,
        name: str,
        display_name: str,
        secret: str,
        callback: str,
        owner: str = "",
        portrait: str = "",
        extra: str = "",
        robot_extra: str = "",
        gender: int = 0,
        mobile: str = "",
        email: str = "",
        address: str = "",
        company: str = "",
        social: str = "",
    ) -> tuple[str, str]:
        """§6 ``/admin/robot/create`` → (userId, secret). An upsert that **replaces** the whole user
        and robot rows: every field left empty is stored empty on an update too (``CreateRobotAction``,
        ``InputCreateRobot.toUser``/``toRobot``, ``DatabaseStore.updateUser``/``updateRobot``), except
        that an empty secret becomes a new generated one and an empty owner the robot itself. So the
        secret and the callback are always sent; to change an existing robot without wiping its
        profile, use ``upsert_robot_keeping_profile``.
        """
        if not name:
            raise ValueError("name is required (§6)")
        body = {
            "userId": user_id,
            "name": name,
            "displayName": display_name,
            "portrait": portrait,
            "gender": gender,
            "mobile": mobile,
            "email": email,
            "address": address,
            "company": company,
            "social": social,
            "extra": extra,
            "owner": owner,
            "secret": secret,
            "callback": callback,
            "robotExtra": robot_extra,
        }
        return self._post_for("/admin/robot/create", body, _pair("userId", "secret"))

    def upsert_robot_keeping_profile(
        self, *, user_id: str, secret: str, callback: str, name: str, display_name: str
    ) -> RobotUpsert:
        """Create a robot, or give an existing one this secret and callback **without touching its
        profile** (display name, portrait, extra, … set in the IM server's console or by its App Server).

        1. Read the robot (``/admin/user/get_robot_info``); ``WfcNotFound`` means it is new.
        2. ``create_robot`` with every profile field it holds sent back, since the create replaces them
           all; ``name`` and ``display_name`` only fill ones it holds empty (a new robot's).
        3. An empty ``secret`` keeps the robot's current one; a new robot then gets one from the server.
        Two admin calls, not atomic: a profile change made between them is lost.
        """
        try:
            held = self.get_robot_info(robot_id=user_id)
        except WfcNotFound:
            held, created = RobotInfo(user_id=user_id, name=""), True
        else:
            created = False
        returned_id, returned_secret = self.create_robot(
            user_id=user_id,
            name=held.name or name,
            display_name=held.display_name or display_name,
            secret=secret or held.secret,
            callback=callback,
            owner=held.owner,
            portrait=held.portrait,
            extra=held.extra,
            robot_extra=held.robot_extra,
            gender=held.gender,
            mobile=held.mobile,
            email=held.email,
            address=held.address,
            company=held.company,
            social=held.social,
        )
        if not returned_secret:
            raise WfcProtocolError("the robot's secret is empty", http_status=200, path="/admin/robot/create")
        return RobotUpsert(user_id=returned_id, secret=returned_secret, created=created)

    def create_user(
        self, *, user_id: str, name: str, display_name: str = "", portrait: str = "", extra: str = "", type: int = 0
    ) -> tuple[str, str]:
        """§6 ``/admin/user/create`` (an upsert) → (userId, name). ``type`` 0, 3 or 100 only."""
        if not name:
            raise ValueError("name is required (§6)")
        if type not in (0, 3, 100):
            raise ValueError("type must be 0 (normal), 3 (admin) or 100 (super admin); robots use create_robot (§6)")
        body = {
            "userId": user_id,
            "name": name,
            "displayName": display_name,
            "portrait": portrait,
            "extra": extra,
            "type": type,
        }
        return self._post_for("/admin/user/create", body, _pair("userId", "name"))

    def get_user_info(self, *, user_id: str) -> UserInfo:
        """§6 ``/admin/user/get_info``; ``WfcNotFound`` for a missing or deleted user."""
        return self._post_for("/admin/user/get_info", {"userId": user_id}, UserInfo.from_wire)

    def get_robot_info(self, *, robot_id: str) -> RobotInfo:
        """§6 ``/admin/user/get_robot_info``, secret included; ``WfcNotFound`` if missing."""
        return self._post_for("/admin/user/get_robot_info", {"robotId": robot_id}, RobotInfo.from_wire)

    def destroy_user(self, *, user_id: str) -> None:
        """§6 ``/admin/user/destroy``, for users and robots alike."""
        self._post("/admin/user/destroy", {"userId": user_id})

    def set_friend_status(self, *, user_id: str, friend_uid: str, status: int = 0) -> None:
        """§6 ``/admin/friend/status``: 0 makes friends, 1 un-friends (a legacy inversion)."""
        if status not in (0, 1):
            raise ValueError("status must be 0 (friends) or 1 (not friends) (§6)")
        self._post("/admin/friend/status", {"userId": user_id, "friendUid": friend_uid, "status": status})

    def send_message(
        self, *, sender: str, conv: Conversation, payload: MessagePayload, to_users: Sequence[str] | None = None
    ) -> SendResult:
        """§6 ``/admin/message/send`` on behalf of ``sender``; no permission checks, any type.
        A send to a robot triggers its callback (§5.1).
        """
        if not sender:
            raise ValueError("sender is required (§6)")
        body = {"sender": sender, "conv": conv.to_wire(), "payload": payload.to_wire(), **_to_users(to_users)}
        return self._post_for("/admin/message/send", body, SendResult.from_wire)

    def health(self) -> bool:
        """§6 ``/admin/health``: an unsigned **GET** (``HealthAction`` has no ``@HttpMethod``, so the
        server routes it for GET only and answers a POST with a bare HTTP 500). True for HTTP 200 with
        envelope code 0 (its result: one node's cpu, memory and disk figures), else False.
        """
        try:
            self._request("GET", "/admin/health", headers={"Accept": "application/json"}, data=None)
        except WfcError:
            return False
        return True


class AsyncRobotSender:
    """§4.1 ``/robot/message/send`` on asyncio, for a deliverer with many conversations in flight.

    Signed and unwrapped exactly as ``RobotClient`` does; the connection pool (keep-alive) is the
    caller's ``aiohttp.ClientSession``. ``timeout`` is (connect, read) seconds.
    """

    PATH = "/robot/message/send"
    PROFILE_PATH = "/robot/profile"

    def __init__(self, base_url: str, *, session: aiohttp.ClientSession, timeout: tuple[float, float]) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ValueError("base_url must be an http(s) URL")
        self._base = base_url.rstrip("/")
        self.url = self._base + self.PATH
        self._session = session
        # A bound on the whole call too: a server that trickles its answer must not hold a send forever.
        self._timeout = aiohttp.ClientTimeout(
            total=timeout[0] + timeout[1], sock_connect=timeout[0], sock_read=timeout[1]
        )

    async def send_message(
        self, *, robot_id: str, secret: str, conv: Conversation, payload: MessagePayload
    ) -> SendResult:
        content = await self._call(self.PATH, robot_id=robot_id, secret=secret, body=encode_send(conv, payload))
        return parse_result(self.PATH, content, SendResult.from_wire)

    async def profile(self, *, robot_id: str, secret: str) -> RobotInfo:
        """§4 ``/robot/profile``: the cheapest signed call, to learn whether the server answers again."""
        content = await self._call(self.PROFILE_PATH, robot_id=robot_id, secret=secret, body={})
        return parse_result(self.PROFILE_PATH, content, RobotInfo.from_wire)

    async def _call(self, path: str, *, robot_id: str, secret: str, body: Mapping[str, object]) -> object:
        if not robot_id:
            raise ValueError("robot_id must not be empty")
        headers = {"Content-Type": CONTENT_TYPE, "Accept": "application/json", **signed_headers(secret, rid=robot_id)}
        try:
            async with self._session.post(
                self._base + path, data=_encode(body), headers=headers, timeout=self._timeout, allow_redirects=False
            ) as response:
                status, content = response.status, await response.read()
        except (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError) as exc:
            # Before the request went out: nothing was sent, sending again is safe.
            raise WfcTransportError(f"{type(exc).__name__}: {exc}"[:300], path=path) from None
        except TimeoutError:
            raise WfcOutcomeUnknown("timed out; the server may have acted on the request", path=path) from None
        except aiohttp.ClientError as exc:
            # Dropped while waiting for the answer (ServerDisconnectedError, a broken response).
            raise WfcOutcomeUnknown(f"{type(exc).__name__}: {exc}"[:300], path=path) from None
        return unwrap_envelope(path, status, content)
