"""DRF authentication by a seat's API token: ``Authorization: Token <key>`` (or ``Bearer <key>``).

Listed first on the views that accept tokens, so that a request without credentials gets 401 with
``WWW-Authenticate: Token`` and a refused key 401 with its reason in ``detail``. A browser's login
(DRF's ``SessionAuthentication``, after this one) still works there: it sends no Authorization.
"""

from __future__ import annotations

from django.contrib.auth.models import User
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_variables
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request

from seats.api_tokens import ApiTokenRefused, api_token_check
from seats.models import ApiToken

SCHEMES = (b"token", b"bearer")
MAX_KEY_LENGTH = 128  # ours are 47 characters; anything far longer is not worth a hash


class SeatTokenAuthentication(BaseAuthentication):
    @sensitive_variables("header", "parts", "key")
    def authenticate(self, request: Request) -> tuple[User, ApiToken] | None:
        header = get_authorization_header(request)
        if not header:
            return None
        parts = header.split()
        if not parts or parts[0].lower() not in SCHEMES:
            raise AuthenticationFailed(_("Unsupported Authorization header: use “Token <key>”."))
        if len(parts) != 2 or len(parts[1]) > MAX_KEY_LENGTH:
            raise AuthenticationFailed(_("Malformed Authorization header: use “Token <key>”, one key with no spaces."))
        try:
            key = parts[1].decode("ascii")
        except UnicodeDecodeError:
            raise AuthenticationFailed(_("Malformed API token.")) from None
        try:
            token = api_token_check(key=key)
        except ApiTokenRefused as refused:
            raise AuthenticationFailed(refused.reason) from None
        return token.seat.user, token

    def authenticate_header(self, request: Request) -> str:
        return 'Token realm="api"'


class SeatTokenScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]  # its registration hook
    """The token in the OpenAPI schema (drf-spectacular finds extensions by subclassing)."""

    target_class = SeatTokenAuthentication
    name = "seatToken"

    def get_security_definition(self, auto_schema: AutoSchema) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "A servicer's API token, issued in the console: `Token <key>` (or `Bearer <key>`).",
        }


def request_by_token(request: Request) -> bool:
    """Whether the request was authenticated by an API token (seat rights only, never a supervisor's)."""
    return isinstance(request.auth, ApiToken)
