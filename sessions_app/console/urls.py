"""The servicer console's pages, mounted at /console/."""

from __future__ import annotations

from django.urls import path

from sessions_app.console import views

app_name = "console"
urlpatterns = [
    path("", views.console_page, name="page"),
    path("login/", views.ConsoleLoginView.as_view(), name="login"),
    path("logout/", views.console_logout, name="logout"),
]
