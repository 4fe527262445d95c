"""Servicer consoles over the real ASGI application (``WebsocketCommunicator``), logged in with a
real Django session cookie, for the consumer tests."""

from __future__ import annotations

import time
from typing import Any

from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client

from cs_project.asgi import application

Frame = dict[str, Any]


def cookie_for(user: User) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


async def console_open(
    user: User | None = None,
    *,
    cookie: str | None = None,
    accept_language: str | None = None,
    language_cookie: str | None = None,
) -> WebsocketCommunicator:
    """A websocket at ``ws/console/``, as ``user`` (a new login) or with a login's session ``cookie``
    (or anonymous); accepted, hello not read yet. The browser's language (``accept_language``) and
    the language switch's cookie (``language_cookie``) as a browser would send them."""
    # The page's origin: the CS server's public URL (cs_project.asgi checks scheme, host and port).
    headers = [(b"origin", settings.CS_PUBLIC_URL.encode()), (b"host", b"127.0.0.1")]
    if user is not None:
        cookie = await sync_to_async(cookie_for)(user)
    cookies = [f"{settings.SESSION_COOKIE_NAME}={cookie}"] if cookie is not None else []
    if language_cookie is not None:
        cookies.append(f"{settings.LANGUAGE_COOKIE_NAME}={language_cookie}")
    if cookies:
        headers.append((b"cookie", "; ".join(cookies).encode()))
    if accept_language is not None:
        headers.append((b"accept-language", accept_language.encode()))
    communicator = WebsocketCommunicator(application, "/ws/console/", headers=headers)
    connected, _ = await communicator.connect(timeout=5)
    assert connected, "accepted first, so that a refusal can carry its reason"
    return communicator


async def console_connect(
    user: User | None = None,
    *,
    cookie: str | None = None,
    accept_language: str | None = None,
    language_cookie: str | None = None,
) -> WebsocketCommunicator:
    """A logged-in console past its hello (a new login of ``user``, or the login of ``cookie``)."""
    communicator = await console_open(
        user, cookie=cookie, accept_language=accept_language, language_cookie=language_cookie
    )
    hello = await communicator.receive_json_from(timeout=5)
    assert hello["type"] == "hello"
    return communicator


async def next_frame(communicator: WebsocketCommunicator, frame_type: str, *, timeout: float = 5) -> Frame:
    """The next frame of this type; frames of other types on the way are skipped."""
    deadline = time.monotonic() + timeout
    while True:
        frame: Frame = await communicator.receive_json_from(timeout=max(0.05, deadline - time.monotonic()))
        if frame["type"] == frame_type:
            return frame


async def closed_with(communicator: WebsocketCommunicator, code: int) -> None:
    """The server closes this console with ``code``; then the disconnect a server sends after a close,
    so the consumer ends in the test and not in the event loop's teardown (where one still reading
    its channel once hung a run for the whole test timeout)."""
    closed = await communicator.receive_output(timeout=5)
    assert closed == {"type": "websocket.close", "code": code}
    await communicator.disconnect()
