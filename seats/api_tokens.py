"""Servicers' API tokens: issue (the key is shown once), list, revoke, and check a presented key.

A key is ``cst_`` and 43 URL-safe characters (32 random bytes). Only its SHA-256 is stored, with
its first characters for display; a key found by its digest is refused when the token was
revoked or its user is deactivated. Revocation is kept as a date, not a deletion, so that the
console can tell "revoked" from "never existed" to the client that still holds the key.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_variables

from cs_project.errors import ApplicationError
from seats.models import ApiToken, Seat

KEY_PREFIX = "cst_"
PREFIX_SHOWN = len(KEY_PREFIX) + 8
MAX_ACTIVE_TOKENS = 10
# ``last_used_at`` is written at most this often per token: a busy client does not write on every request.
LAST_USED_PRECISION = timedelta(minutes=1)


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    key: str  # shown once, to the servicer who asked; never stored


class ApiTokenRefused(Exception):
    """A presented key does not authenticate; ``reason`` is for the client (translated)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# Keys stay off error pages (cs_project.error_pages shows frames' variables, in the demo too).
@sensitive_variables("key")
def api_key_digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def api_tokens_active(*, seat: Seat) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(seat=seat, revoked_at__isnull=True).order_by("-created_at", "-pk")


@sensitive_variables("key")
@transaction.atomic
def api_token_issue(*, seat: Seat, name: str = "") -> IssuedToken:
    """A new token for ``seat``; the key in the result is the only copy there will ever be."""
    Seat.objects.select_for_update(no_key=True, of=("self",)).filter(pk=seat.pk).first()  # one issue at a time
    if api_tokens_active(seat=seat).count() >= MAX_ACTIVE_TOKENS:
        raise ApplicationError(
            _("You already have %(count)s API tokens. Revoke one you no longer use first.")
            % {"count": MAX_ACTIVE_TOKENS},
            code="too_many_tokens",
            status=409,
        )
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(seat=seat, name=name.strip(), prefix=key[:PREFIX_SHOWN], digest=api_key_digest(key))
    return IssuedToken(token=token, key=key)


def api_token_revoke(*, seat: Seat, token_id: int) -> None:
    """Revoke one of the seat's own tokens (at once: the next request with it is refused)."""
    revoked = ApiToken.objects.filter(pk=token_id, seat=seat, revoked_at__isnull=True).update(revoked_at=timezone.now())
    if not revoked:
        raise ApplicationError(_("No such API token."), code="not_found", status=404)


@sensitive_variables("key")
def api_token_check(*, key: str) -> ApiToken:
    """The token a presented key belongs to, if it may be used now; notes its use (once a minute at most)."""
    token = ApiToken.objects.select_related("seat__user").filter(digest=api_key_digest(key)).first()
    if token is None:
        raise ApiTokenRefused(_("Invalid API token."))
    if token.revoked_at is not None:
        raise ApiTokenRefused(_("This API token has been revoked."))
    if not token.seat.user.is_active:
        raise ApiTokenRefused(_("The account of this API token's seat is deactivated."))
    now = timezone.now()
    if token.last_used_at is None or token.last_used_at < now - LAST_USED_PRECISION:
        # A conditional update: two requests at once write once, and never move the date back.
        ApiToken.objects.filter(pk=token.pk).filter(
            Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_PRECISION)
        ).update(last_used_at=now)
        token.last_used_at = now
    return token
