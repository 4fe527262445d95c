from __future__ import annotations

from django.urls import path

from seats import apis

app_name = "seats"
urlpatterns = [
    path("transfer-targets/", apis.TransferTargetListApi.as_view(), name="transfer-targets"),
]
