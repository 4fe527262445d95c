from __future__ import annotations

from django.urls import path

from ratings import views

app_name = "ratings"
urlpatterns = [path("<str:token>/", views.rating_form, name="form")]
