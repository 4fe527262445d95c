"""Every websocket route of the project, gathered from the apps that have one."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from sessions_app.console.routing import websocket_urlpatterns as sessions_websockets
from sessions_app.supervision.consumers import SupervisorConsumer

websocket_urlpatterns: list[URLPattern | URLResolver] = [
    *sessions_websockets,
    path("ws/supervisor/", SupervisorConsumer.as_asgi(), name="supervisor-websocket"),
]
