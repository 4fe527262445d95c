"""ASGI entry point: HTTP through Django, websockets through Channels."""

from __future__ import annotations

from cs_project.bootstrap import prepare_environment

prepare_environment()

from django.core.asgi import get_asgi_application  # noqa: E402 - must follow the environment

django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402 - needs the app registry ready
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from cs_project.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)
