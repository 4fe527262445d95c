"""The one exception type business rules raise, mapped to HTTP once (``api_exception_handler``)."""

from __future__ import annotations

from typing import Any

from rest_framework.response import Response
from rest_framework.views import exception_handler


class ApplicationError(Exception):
    def __init__(self, message: str, *, code: str = "invalid", status: int = 400) -> None:
        super().__init__(message)
        self.message, self.code, self.status = message, code, status


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, ApplicationError):
        return Response({"error": exc.message, "code": exc.code}, status=exc.status)
    return exception_handler(exc, context)
