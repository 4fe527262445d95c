"""The one place that turns settings and Robot rows into Wildfire protocol clients."""

from __future__ import annotations

from functools import cache
from typing import Protocol
from urllib.parse import urlencode

import requests
from django.conf import settings

from robots.appserver.client import AppServerImAdmin
from robots.models import Robot
from robots.wfprotocol import AdminClient, RobotClient, RobotInfo, RobotUpsert, UserInfo


@cache
def _http_session() -> requests.Session:
    # One pooled session per process: keeps connections to the IM server alive across calls.
    session = requests.Session()
    adapter = requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=32)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


class ImAdmin(Protocol):
    """The admin operations customer service needs; served by the IM server or by the App Server."""

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
    ) -> tuple[str, str]: ...

    def upsert_robot_keeping_profile(
        self, *, user_id: str, secret: str, callback: str, name: str, display_name: str
    ) -> RobotUpsert: ...

    def get_user_info(self, *, user_id: str) -> UserInfo: ...

    def get_robot_info(self, *, robot_id: str) -> RobotInfo: ...

    def befriend(self, *, robot_id: str, user_id: str) -> None: ...


class DirectImAdmin:
    """The CS server holds the admin secret and calls the IM server's admin API itself."""

    def __init__(self, client: AdminClient) -> None:
        self.client = client

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
        return self.client.create_robot(
            user_id=user_id,
            name=name,
            display_name=display_name,
            secret=secret,
            callback=callback,
            owner=owner,
            portrait=portrait,
        )

    def upsert_robot_keeping_profile(
        self, *, user_id: str, secret: str, callback: str, name: str, display_name: str
    ) -> RobotUpsert:
        return self.client.upsert_robot_keeping_profile(
            user_id=user_id, secret=secret, callback=callback, name=name, display_name=display_name
        )

    def get_user_info(self, *, user_id: str) -> UserInfo:
        return self.client.get_user_info(user_id=user_id)

    def get_robot_info(self, *, robot_id: str) -> RobotInfo:
        return self.client.get_robot_info(robot_id=robot_id)

    def befriend(self, *, robot_id: str, user_id: str) -> None:
        # §6: status 0 makes friends; both directions, so either side may start the chat.
        self.client.set_friend_status(user_id=robot_id, friend_uid=user_id, status=0)
        self.client.set_friend_status(user_id=user_id, friend_uid=robot_id, status=0)


def admin_client() -> AdminClient:
    """The IM server's admin API itself (direct mode, setup and demo tooling)."""
    if not settings.WFC_ADMIN_SECRET:
        raise RuntimeError("WFC_ADMIN_SECRET is not set: in app-server mode the CS server holds no admin secret")
    return AdminClient(
        settings.WFC_ADMIN_API_URL,
        settings.WFC_ADMIN_SECRET,
        timeout=settings.WFC_TIMEOUT_SECONDS,
        session=_http_session(),
    )


def im_admin() -> ImAdmin:
    if settings.CS_IM_ADMIN_MODE == "app_server":
        return AppServerImAdmin(
            settings.CS_APP_SERVER_URL,
            settings.CS_APP_SERVER_KEY,
            timeout=settings.WFC_TIMEOUT_SECONDS,
            session=_http_session(),
        )
    return DirectImAdmin(admin_client())


def robot_client(robot: Robot) -> RobotClient:
    return RobotClient(
        settings.WFC_ROBOT_API_URL,
        robot.robot_id,
        robot.secret,
        timeout=settings.WFC_TIMEOUT_SECONDS,
        session=_http_session(),
    )


def callback_url(robot: Robot) -> str:
    """Where the IM server posts this robot's messages; the token authenticates the post (§5.2)."""
    return f"{settings.CS_PUBLIC_URL}/wfc/callback/{robot.robot_id}?{urlencode({'k': robot.callback_token})}"
