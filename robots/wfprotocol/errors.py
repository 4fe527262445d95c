"""Errors of the HTTP APIs (§3), one class per way a call can fail.

Messages carry the API path, the numeric code, the HTTP status and the server's ``msg``. They
never carry headers (the signature), request bodies or result values: those can hold secrets.
"""

from __future__ import annotations

# §3 error codes that the classes below single out.
CODE_SIGN_MISSING = 239
CODE_SIGN_EXPIRED = 243
CODE_AUTH_FAILURE = 244
CODE_NO_RIGHT = 248
CODE_RPC_TIMEOUT = 249
CODE_RATE_LIMITED = 250
CODE_INVALID_PARAMETER = 251
CODE_NOT_EXIST = 253
CODE_NOT_IMPLEMENTED = 254

AUTH_CODES = frozenset({CODE_SIGN_MISSING, CODE_SIGN_EXPIRED, CODE_AUTH_FAILURE, CODE_NO_RIGHT})

# The IM server itself answers HTTP 500 only for faults that the same request meets again: a path or
# method it does not route (UnknownErrorAction) or an exception while reading the request (a body Gson
# cannot bind, invalid base64, a null it dereferences; ActionHandler.channelRead0). Busy, timed-out or
# failing internals are codes in a 200 (249, 250, 4). A few tries cover a one-off, then the failure
# shows. Statuses it never sends come from a proxy in between: 503 and the like are the proxy failing
# to reach it (transient); 502 and 504, a proxy that may have passed the request on and got no answer,
# leave the outcome unknown (``WfcOutcomeUnknown``, raised by the clients); 501 and 505 describe the
# request (permanent).
HTTP_500_ATTEMPTS = 3
_PERMANENT_HTTP_5XX = frozenset({501, 505})

_MAX_SERVER_MSG = 200


class WfcError(Exception):
    """A call to the IM server's HTTP API failed; ``retryable`` says whether trying again can help.

    The constructor's arguments are kept in ``args`` so the exception survives pickling
    (Celery moves exceptions between processes).
    """

    def __init__(self, msg: str, code: int | None = None, http_status: int | None = None, path: str = "") -> None:
        msg = msg[:_MAX_SERVER_MSG]
        super().__init__(msg, code, http_status, path)
        self.msg = msg
        self.code = code
        self.http_status = http_status
        self.path = path

    @property
    def retryable(self) -> bool:
        return False

    @property
    def attempts_allowed(self) -> int | None:
        """For a retryable error, how many tries in all (counting earlier failures of the same work)
        are worth making; None leaves it to the caller's own limit."""
        return None

    def __str__(self) -> str:
        status = [f"code {self.code}"] if self.code is not None else []
        if self.http_status is not None:
            status.append(f"HTTP {self.http_status}")
        where = f"{self.path}: " if self.path else ""
        suffix = f" ({', '.join(status)})" if status else ""
        return f"{where}{self.msg}{suffix}"

    def __repr__(self) -> str:
        fields = f"code={self.code!r}, http_status={self.http_status!r}, path={self.path!r}"
        return f"{type(self).__name__}({self.msg!r}, {fields})"


class WfcApiError(WfcError):
    """The envelope's ``code`` is not 0 (§3), usually with HTTP 200."""

    @property
    def retryable(self) -> bool:
        # §3: 249 is the server's internal RPC timing out; every other code describes the request.
        return self.code == CODE_RPC_TIMEOUT


class WfcRateLimited(WfcApiError):
    """Code 250: the per-robot or the global admin leaky bucket is full (§2.5)."""

    @property
    def retryable(self) -> bool:
        return True


class WfcAuthError(WfcApiError):
    """Codes 239, 243, 244, 248 (§2.3) or HTTP 401 (what the docs promise for sign errors, §3)."""

    @property
    def retryable(self) -> bool:
        return False


class WfcNotFound(WfcApiError):
    """Code 253: no such user, robot, group or channel."""

    @property
    def retryable(self) -> bool:
        return False


class WfcHttpError(WfcError):
    """An HTTP status other than 200 and 401, e.g. 500 for a path the port does not route (§1).

    500 is retryable ``HTTP_500_ATTEMPTS`` times in all, a 5xx of a proxy in between (503,
    …) like any transient failure; 501, 505 and anything below 500 are permanent.
    """

    @property
    def retryable(self) -> bool:
        status = self.http_status
        return status is not None and 500 <= status <= 599 and status not in _PERMANENT_HTTP_5XX

    @property
    def attempts_allowed(self) -> int | None:
        return HTTP_500_ATTEMPTS if self.http_status == 500 else None


class WfcTransportError(WfcError):
    """No usable answer: connection refused, timed out, or a body that is not JSON.

    A read timeout does not mean the server did nothing: a retried send may deliver twice
    (``WfcOutcomeUnknown``).
    """

    @property
    def retryable(self) -> bool:
        return True


class WfcOutcomeUnknown(WfcTransportError):
    """The request was sent and no answer came (a read timeout, the connection dropped while
    waiting): the server may still act on it, e.g. once a pause ends. Sending it again before
    the server has answered anything since would queue a second copy behind the first."""


class WfcProtocolError(WfcError):
    """The envelope or its ``result`` does not have the shape §3–§7 give it."""

    @property
    def retryable(self) -> bool:
        return False


def api_error(code: int, msg: str, *, http_status: int, path: str) -> WfcApiError:
    """§3: the exception for a non-zero envelope code."""
    if code == CODE_RATE_LIMITED:
        return WfcRateLimited(msg, code, http_status, path)
    if code in AUTH_CODES:
        return WfcAuthError(msg, code, http_status, path)
    if code == CODE_NOT_EXIST:
        return WfcNotFound(msg, code, http_status, path)
    return WfcApiError(msg, code, http_status, path)
