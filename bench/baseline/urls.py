from __future__ import annotations

from django.urls import path

from bench.baseline.views import callback_store

urlpatterns = [path("wfc/callback/<str:robot_id>", callback_store)]
