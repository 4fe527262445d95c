"""HTTP plumbing shared by both ports: envelopes (§3), the bare 500 (§1), request logging, services."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web

from wfsandbox.body import JsonObject, dumps
from wfsandbox.callbacks import CallbackDispatcher
from wfsandbox.errors import ErrorCode
from wfsandbox.routing import Router
from wfsandbox.runtime import Api, Runtime
from wfsandbox.store import Store

access_logger = logging.getLogger("wfsandbox.access")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
JSON_TYPE = "application/json"


@dataclass
class Services:
    store: Store
    callbacks: CallbackDispatcher
    runtime: Runtime
    router: Router


SERVICES = web.AppKey("services", Services)
PORT_NAME = web.AppKey("port_name", str)
# What the access log may say about a request besides method, path and status (never headers or bodies).
LOG_CODE = "wfsandbox.code"
LOG_RID = "wfsandbox.rid"


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def envelope(request: web.Request, code: ErrorCode, result: object = None, *, msg: str | None = None) -> web.Response:
    """``{"code", "msg", "result"}``; ``result`` left out when there is none, as Gson drops nulls."""
    body: JsonObject = {"code": int(code), "msg": msg if msg is not None else code.msg}
    if result is not None:
        body["result"] = result
    request[LOG_CODE] = int(code)
    return json_response(body)


def precheck_failure(request: web.Request, code: ErrorCode) -> web.Response:
    """A failed signature or rate check nests a second envelope in ``result`` (§3)."""
    return envelope(request, code, {"code": int(code), "msg": code.msg})


def json_response(body: object, *, status: int = 200) -> web.Response:
    return web.Response(status=status, text=dumps(body), content_type=JSON_TYPE, charset="utf-8")


def bare_500() -> web.Response:
    """``UnknownErrorAction``: HTTP 500 with no JSON envelope."""
    return web.Response(status=500, body=b"", content_type=JSON_TYPE)


async def injected_fault(request: web.Request, api: Api) -> web.Response | None:
    """The configured fault for this API request, or None to answer normally (after any delay)."""
    faults = request.app[SERVICES].runtime.faults
    mode = faults.take(api)
    if mode == "http500":
        request[LOG_CODE] = "fault"
        return bare_500()
    if mode == "http503":
        # Not the IM server's own answer: what a reverse proxy in front of it says while it is away.
        request[LOG_CODE] = "fault"
        return web.Response(status=503, text="503 Service Temporarily Unavailable", content_type="text/html")
    if mode == "error_code":
        body = {"code": faults.code, "msg": "injected failure"}
        request[LOG_CODE] = faults.code
        return json_response(body)
    if mode == "delay":
        await asyncio.sleep(faults.delay_seconds)
    elif mode == "stall":
        await request.app[SERVICES].runtime.stall_over()
    return None


def route_table(method: str) -> str:
    """The action table a method is looked up in (``ServerSetting.getActionMap``): POST, PUT and
    DELETE have their own; any other method (PATCH, OPTIONS, …) reads the GET table."""
    method = method.upper()
    return method if method in ("POST", "PUT", "DELETE") else "GET"


@web.middleware
async def head_is_an_empty_200(request: web.Request, handler: Handler) -> web.StreamResponse:
    """``ActionHandler.doAction`` answers HEAD with 200 and no body on every path of both ports,
    before routing. The sandbox's own pages and API (``/sandbox/`` on the robot port) keep aiohttp's HEAD."""
    sandbox_own = request.app[PORT_NAME] == "robot" and request.path.startswith("/sandbox/")
    if request.method == "HEAD" and not sandbox_own:
        return web.Response(status=200, content_type=JSON_TYPE)
    return await handler(request)


@web.middleware
async def unknown_route_is_500(request: web.Request, handler: Handler) -> web.StreamResponse:
    """An unregistered path or method falls through to ``UnknownErrorAction`` (§1)."""
    try:
        return await handler(request)
    except (web.HTTPNotFound, web.HTTPMethodNotAllowed):
        return bare_500()


@web.middleware
async def access_log(request: web.Request, handler: Handler) -> web.StreamResponse:
    """One line per request: port, method, path (no query), status, envelope code, robot id, time."""
    started = time.monotonic()
    status = 500
    try:
        response = await handler(request)
        status = response.status
        return response
    finally:
        extras = []
        if LOG_CODE in request:
            extras.append(f"code={request[LOG_CODE]}")
        if request.get(LOG_RID):
            extras.append(f"rid={request[LOG_RID]}")
        elapsed = (time.monotonic() - started) * 1000
        access_logger.info(
            "%s %s %s %d %s%.1fms",
            request.app[PORT_NAME],
            request.method,
            request.path,
            status,
            " ".join(extras) + " " if extras else "",
            elapsed,
        )
