from __future__ import annotations

from django.urls import path

from robots.apis import RobotCallbackApi

app_name = "robots"
urlpatterns = [
    path("callback/<str:robot_id>", RobotCallbackApi.as_view(), name="callback"),
]
