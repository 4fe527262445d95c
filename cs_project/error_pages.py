"""Keeping secrets off error pages, including Django's debug pages in the demo (DEBUG on).

The IM server authenticates callbacks only by the token in the URL's query (``?k=``), and Django's
technical 500 page shows the URL, the GET data, request.META and every frame's local variables;
its technical 404 page shows the URL too. Settings are cleansed by name (SECRET, KEY, TOKEN, PASS,
...), but nothing cleanses a query parameter, nor a password inside a Redis URL. Three pieces:

1. ``SecretsReporterFilter`` (DEFAULT_EXCEPTION_REPORTER_FILTER): settings, META and frame
   variables; it is active with DEBUG on too, so ``sensitive_variables`` works in the demo.
2. ``SecretsExceptionReporter`` (DEFAULT_EXCEPTION_REPORTER): the GET data and the URL of the 500
   page, which the filter never sees, and any other copy of a secret parameter's value.
3. ``error_page_redaction_middleware``: the 404 page, which Django renders without any hook.
"""

from __future__ import annotations

import html
import re
from collections.abc import Awaitable, Callable, Iterable
from typing import Any
from urllib.parse import quote

from asgiref.sync import iscoroutinefunction
from django.http import HttpRequest, HttpResponse, HttpResponseBase, QueryDict
from django.utils.decorators import sync_and_async_middleware
from django.utils.safestring import SafeString, mark_safe
from django.views.debug import ExceptionReporter, SafeExceptionReporterFilter

# Query parameters that carry a secret: the callback token (the same list as the access log's, in
# cs_project.asgi_server).
SECRET_QUERY_PARAMETERS = ("k", "token")
# Shorter values are not secrets (a real token has 43 characters), and replacing every copy of a
# one-letter value would garble the page.
_MIN_SECRET_LENGTH = 8
_SECRET_IN_QUERY = re.compile(r"((?:^|[?&;])(?:" + "|".join(SECRET_QUERY_PARAMETERS) + r")=)[^&;#\s]*")
_URL_CREDENTIALS = re.compile(r"(\b[a-z][a-z0-9+.-]*://)[^/@\s]*@", re.IGNORECASE)
CLEANSED = SafeExceptionReporterFilter.cleansed_substitute


def redact_query(text: str) -> str:
    """The URL or query string ``text`` with the secret parameters' values replaced."""
    return _SECRET_IN_QUERY.sub(rf"\g<1>{CLEANSED}", text)


def secret_values(request: HttpRequest | None) -> list[str]:
    """The request's secret parameter values, in each form a page may show them."""
    if request is None:
        return []
    values: set[str] = set()
    for name in SECRET_QUERY_PARAMETERS:
        for value in request.GET.getlist(name):
            if len(value) >= _MIN_SECRET_LENGTH:
                values.update({value, quote(value, safe=""), html.escape(value)})
    return sorted(values, key=len, reverse=True)  # the longest first: one may contain another


def redact_values(text: str, values: Iterable[str]) -> str:
    for value in values:
        text = text.replace(value, CLEANSED)
    return text


class SecretsReporterFilter(SafeExceptionReporterFilter):
    def is_active(self, request: HttpRequest | None) -> bool:
        return True  # also with DEBUG on: the demo's pages are seen by whoever tries the demo

    def cleanse_setting(self, key: Any, value: Any) -> Any:
        cleansed = super().cleanse_setting(key, value)
        if type(cleansed) is str:  # not isinstance: lazy strings pass for str and must stay lazy
            # REDIS_URL, CELERY_BROKER_URL, CACHES' LOCATION: redis://:password@host/0
            cleansed = _URL_CREDENTIALS.sub(rf"\g<1>{CLEANSED}@", cleansed)
        return cleansed

    def get_safe_request_meta(self, request: HttpRequest) -> dict[str, Any]:
        meta = super().get_safe_request_meta(request)
        return {name: redact_query(value) if isinstance(value, str) else value for name, value in meta.items()}

    def cleanse_special_types(self, request: HttpRequest | None, value: Any) -> Any:
        if isinstance(value, QueryDict) and any(name in value for name in SECRET_QUERY_PARAMETERS):
            value = value.copy()
            for name in SECRET_QUERY_PARAMETERS:
                if name in value:
                    value.setlist(name, [CLEANSED])
            return value
        return super().cleanse_special_types(request, value)


class SecretsExceptionReporter(ExceptionReporter):
    def get_traceback_data(self) -> dict[str, Any]:
        data = super().get_traceback_data()
        if self.request is not None:
            data["request_GET_items"] = self.filter.cleanse_special_types(self.request, self.request.GET).items()
            data["request_insecure_uri"] = redact_query(data["request_insecure_uri"])
        return data

    # Stars in place of a value are as safe as the escaped page they are put into.
    def get_traceback_html(self) -> SafeString:
        return mark_safe(redact_values(super().get_traceback_html(), secret_values(self.request)))  # noqa: S308

    def get_traceback_text(self) -> SafeString:
        return mark_safe(redact_values(super().get_traceback_text(), secret_values(self.request)))  # noqa: S308


def _redact_error_page(request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
    if response.status_code < 400 or response.streaming or not isinstance(response, HttpResponse):
        return response
    values = secret_values(request)
    if values:
        charset = response.charset
        response.content = redact_values(response.content.decode(charset, errors="replace"), values).encode(charset)
        if response.has_header("Content-Length"):
            response["Content-Length"] = str(len(response.content))
    return response


@sync_and_async_middleware
def error_page_redaction_middleware(
    get_response: Callable[[HttpRequest], HttpResponseBase | Awaitable[HttpResponseBase]],
) -> Callable[[HttpRequest], HttpResponseBase | Awaitable[HttpResponseBase]]:
    """Error responses to a request with a secret parameter never repeat its value (see above).

    First in MIDDLEWARE: Django turns an exception into its error page at every layer, so the
    outermost layer sees every page.
    """
    if iscoroutinefunction(get_response):

        async def redacting_async(request: HttpRequest) -> HttpResponseBase:
            response = await get_response(request)
            return _redact_error_page(request, response)

        return redacting_async

    def redacting(request: HttpRequest) -> HttpResponseBase:
        response = get_response(request)
        assert isinstance(response, HttpResponseBase)  # noqa: S101 - a sync chain answers synchronously
        return _redact_error_page(request, response)

    return redacting
