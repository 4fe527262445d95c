"""The Content-Security-Policy of every page: django-csp's middleware, with the page's websocket.

The policy itself is ``CONTENT_SECURITY_POLICY`` in the settings. The consoles and the live view
open a websocket to the host that served the page (``window.location.host``). CSP level 3 counts
``ws:``/``wss:`` of the page's own host as ``'self'``, and current browsers follow it; naming that
origin as well costs nothing and covers browsers from before the rule.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from csp.middleware import CSPMiddleware, PolicyParts
from django.core.exceptions import DisallowedHost

if TYPE_CHECKING:
    from django.http import HttpRequest, HttpResponseBase


class PageSocketCSPMiddleware(CSPMiddleware):
    def get_policy_parts(
        self,
        request: HttpRequest,
        response: HttpResponseBase,
        report_only: bool = False,  # noqa: FBT001, FBT002 - django-csp's signature
    ) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only)
        try:
            host = request.get_host()
        except DisallowedHost:  # answered 400 already; the policy stays 'self' only
            return parts
        socket_origin = f"{'wss' if request.is_secure() else 'ws'}://{host}"
        parts.update = {**(parts.update or {}), "connect-src": [socket_origin]}
        return parts
