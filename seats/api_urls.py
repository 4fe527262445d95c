"""A servicer's API tokens, mounted at /api/tokens/."""

from __future__ import annotations

from django.urls import path

from seats import apis

app_name = "seats"
urlpatterns = [
    path("", apis.ApiTokenListApi.as_view(), name="api-token-list"),
    path("create/", apis.ApiTokenCreateApi.as_view(), name="api-token-create"),
    path("<int:token_id>/revoke/", apis.ApiTokenRevokeApi.as_view(), name="api-token-revoke"),
]
