"""The base of the project's API views (DRF): a request is counted before its permissions are checked.

DRF's ``APIView.initial()`` authenticates, checks permissions, then throttles, so a request refused
with 403 was never counted: an anonymous client could call an endpoint that needs a login without
end and the anonymous rate (``CS_THROTTLE_ANON``) never applied. Here the throttles come first, for
every client: a flood of refused requests is a flood all the same. The IM server's callbacks have
no throttles (``robots.apis.RobotCallbackApi``) and do not need this base.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.views import APIView

if TYPE_CHECKING:
    from rest_framework.request import Request


class ApiView(APIView):
    def check_permissions(self, request: Request) -> None:
        super().check_throttles(request)  # needs the user, which DRF's initial() has just authenticated
        super().check_permissions(request)

    def check_throttles(self, request: Request) -> None:
        """Done already, in :meth:`check_permissions`."""


class SchemaApi(ApiView, SpectacularAPIView):
    """The OpenAPI schema (staff only), counted like every API view."""


class SchemaDocsApi(ApiView, SpectacularSwaggerSplitView):
    """Swagger UI for the schema (staff only). Its start-up script is a separate request and its
    style a file, not inline, so the page runs under the project's CSP (cs_project.csp)."""

    template_name = "api_docs/swagger_ui.html"
