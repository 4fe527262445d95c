"""ASGI entry point: HTTP through Django, websockets through Channels.

The IM server's callbacks (``/wfc/callback/…``) go to a Django handler without the browser
middlewares (sessions, CSRF, locale, auth, messages, axes): a callback carries no cookie and is
authenticated by its token, and under ASGI every one of those middlewares costs a hop between
the event loop and Django's sync thread on the hottest path of the system (docs/benchmarks.md).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from cs_project.bootstrap import prepare_environment

prepare_environment()

from django.conf import settings  # noqa: E402 - must follow the environment
from django.core.asgi import get_asgi_application  # noqa: E402
from django.core.handlers.asgi import ASGIHandler  # noqa: E402
from django.core.handlers.exception import convert_exception_to_response  # noqa: E402

django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402 - needs the app registry ready
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import OriginValidator  # noqa: E402

from cs_project.routing import websocket_urlpatterns  # noqa: E402

CALLBACK_PATH_PREFIX = "/wfc/callback/"


class CallbackASGIHandler(ASGIHandler):
    """Django with no middleware: the same URLs and views, for the IM server's callbacks only."""

    def load_middleware(self, is_async: bool = False) -> None:  # noqa: FBT001, FBT002 - Django's signature
        self._view_middleware: list[Any] = []
        self._template_response_middleware: list[Any] = []
        self._exception_middleware: list[Any] = []
        # What BaseHandler.load_middleware does with an empty MIDDLEWARE (private in django-stubs).
        get_response = self._get_response_async if is_async else self._get_response  # type: ignore[attr-defined]
        self._middleware_chain = convert_exception_to_response(get_response)


callback_asgi_app = CallbackASGIHandler()


async def http_application(scope: dict[str, Any], receive: Any, send: Any) -> None:
    handler = callback_asgi_app if scope["path"].startswith(CALLBACK_PATH_PREFIX) else django_asgi_app
    await handler(scope, receive, send)


def websocket_origins() -> list[str]:
    """Where the consoles' and the live view's pages are served, each with its scheme and port (a
    page on another port or scheme of the host is another origin and may not open a socket with the
    user's cookie): the public URL, the trusted origins, and each allowed host on the public URL's
    scheme and port (the demo at http://localhost:8000 as well as http://127.0.0.1:8000)."""
    public = urlsplit(settings.CS_PUBLIC_URL)
    port = f":{public.port}" if public.port else ""
    hosts = [host for host in settings.ALLOWED_HOSTS if host and not host.startswith((".", "*"))]
    return [settings.CS_PUBLIC_URL, *settings.CSRF_TRUSTED_ORIGINS, *(f"{public.scheme}://{h}{port}" for h in hosts)]


class PublicOriginValidator(OriginValidator):  # type: ignore[misc]  # channels is untyped
    """Channels' origin check (scheme, host and port), against ``websocket_origins()`` read at each
    connection, so a changed setting (tests, a reload) applies at once."""

    def __init__(self, application: Any) -> None:
        super().__init__(application, allowed_origins=[])

    def valid_origin(self, parsed_origin: Any) -> bool:
        if parsed_origin is None:
            return False  # a browser always sends Origin on a websocket
        try:
            return any(self.match_allowed_origin(parsed_origin, origin) for origin in websocket_origins())
        except ValueError:  # a malformed port in the Origin header
            return False


application = ProtocolTypeRouter(
    {
        "http": http_application,
        "websocket": PublicOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)
