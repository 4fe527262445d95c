"""The CS server's side of the App Server protocol: the same operations as ``DirectImAdmin``."""

from __future__ import annotations

import json
from typing import Any

import requests

from robots.appserver.auth import signed_headers
from robots.wfprotocol import (
    RobotInfo,
    RobotUpsert,
    UserInfo,
    WfcAuthError,
    WfcError,
    WfcHttpError,
    WfcNotFound,
    WfcTransportError,
)


class AppServerImAdmin:
    def __init__(
        self, base_url: str, key: str, *, timeout: float = 5.0, session: requests.Session | None = None
    ) -> None:
        self._base_url = base_url.rstrip("/")
        self._key = key
        self._timeout = timeout
        self._session = session or requests.Session()

    def __repr__(self) -> str:
        return f"AppServerImAdmin({self._base_url!r})"  # never the key

    def _call(self, path: str, body: dict[str, Any]) -> Any:
        data = json.dumps(body, ensure_ascii=False).encode()
        try:
            response = self._session.post(
                self._base_url + path,
                data=data,
                headers=signed_headers(self._key, path=path, body=data),
                timeout=self._timeout,
                allow_redirects=False,
            )
        except requests.RequestException as exc:
            raise WfcTransportError(f"app server unreachable ({type(exc).__name__})", path=path) from None
        try:
            answer = response.json()
        except ValueError:
            raise WfcHttpError(
                "app server answered without JSON", http_status=response.status_code, path=path
            ) from None
        if response.status_code == 200 and isinstance(answer, dict):
            return answer.get("result")
        reason = str(answer.get("error", "")) if isinstance(answer, dict) else ""
        if response.status_code == 404:
            raise WfcNotFound(reason, 253, 404, path)
        if response.status_code in (401, 403):
            raise WfcAuthError(reason, None, response.status_code, path)
        # 502: the IM server failed transiently; 503: the App Server cannot check for replays now.
        if response.status_code in (502, 503) and isinstance(answer, dict) and answer.get("retryable"):
            raise WfcTransportError(reason, http_status=502, path=path)
        raise WfcError(reason or "app server refused the request", http_status=response.status_code, path=path)

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
    ) -> tuple[str, str]:
        result = self._call(
            "/cs/robot/upsert",
            {
                "robot_id": user_id,
                "display_name": display_name,
                "secret": secret,
                "callback": callback,
                "owner": owner,
                "portrait": portrait,
            },
        )
        return str(result["userId"]), str(result["secret"])

    def upsert_robot_keeping_profile(
        self, *, user_id: str, secret: str, callback: str, name: str, display_name: str
    ) -> RobotUpsert:
        # The App Server names robots by their id; ``name`` is what it uses anyway.
        result = self._call(
            "/cs/robot/account",
            {"robot_id": user_id, "secret": secret, "callback": callback, "display_name": display_name},
        )
        return RobotUpsert(user_id=str(result["userId"]), secret=str(result["secret"]), created=bool(result["created"]))

    def get_user_info(self, *, user_id: str) -> UserInfo:
        return UserInfo(**self._call("/cs/user/info", {"user_id": user_id}))

    def get_robot_info(self, *, robot_id: str) -> RobotInfo:
        return RobotInfo(**self._call("/cs/robot/info", {"robot_id": robot_id}))

    def befriend(self, *, robot_id: str, user_id: str) -> None:
        self._call("/cs/friend", {"robot_id": robot_id, "user_id": user_id})
