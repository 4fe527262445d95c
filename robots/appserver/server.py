"""The App Server's HTTP endpoints (aiohttp). Each maps onto one admin API call, after checks."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from typing import Any

from aiohttp import web

from cs_project.json_input import JSONRefused, json_parse
from robots.appserver.auth import AuthRefused, Verifier
from robots.appserver.nonces import RedisNonceStore, ReplayCheckUnavailable
from robots.appserver.policy import may_manage_robot
from robots.wfprotocol import AdminClient, WfcError, WfcNotFound

logger = logging.getLogger("appserver")

MAX_BODY_BYTES = 64 * 1024  # far above any request the CS server sends (a few ids, a name, a URL)
Handler = Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]
VERIFIER_KEY = web.AppKey("verifier", Verifier)


class Refused(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status, self.reason = status, reason


def _string(body: dict[str, Any], key: str, *, required: bool = True) -> str:
    value = body.get(key, "")
    if not isinstance(value, str) or (required and not value):
        raise Refused(400, f"{key}: a non-empty string is required")
    return value


def build_app(*, key: str, admin: AdminClient, cs_robot_id: str, nonces: RedisNonceStore) -> web.Application:
    def robot_allowed(robot_id: str) -> None:
        if not may_manage_robot(robot_id, cs_robot_id=cs_robot_id):
            raise Refused(403, f"robot {robot_id!r} is not a customer-service robot")

    async def robot_upsert(body: dict[str, Any]) -> dict[str, Any]:
        robot_id = _string(body, "robot_id")
        robot_allowed(robot_id)
        user_id, secret = await asyncio.to_thread(
            admin.create_robot,
            user_id=robot_id,
            name=robot_id,
            display_name=_string(body, "display_name", required=False) or robot_id,
            portrait=_string(body, "portrait", required=False),
            secret=_string(body, "secret"),
            callback=_string(body, "callback"),
            owner=_string(body, "owner", required=False),
        )
        return {"userId": user_id, "secret": secret}

    async def robot_account(body: dict[str, Any]) -> dict[str, Any]:
        """The robot's secret and callback, its profile as the IM server holds it (wfc_setup)."""
        robot_id = _string(body, "robot_id")
        robot_allowed(robot_id)
        upsert = await asyncio.to_thread(
            admin.upsert_robot_keeping_profile,
            user_id=robot_id,
            name=robot_id,
            display_name=_string(body, "display_name", required=False) or robot_id,
            secret=_string(body, "secret", required=False),
            callback=_string(body, "callback"),
        )
        return {"userId": upsert.user_id, "secret": upsert.secret, "created": upsert.created}

    async def robot_info(body: dict[str, Any]) -> dict[str, Any]:
        robot_id = _string(body, "robot_id")
        robot_allowed(robot_id)
        return asdict(await asyncio.to_thread(admin.get_robot_info, robot_id=robot_id))

    async def user_info(body: dict[str, Any]) -> dict[str, Any]:
        return asdict(await asyncio.to_thread(admin.get_user_info, user_id=_string(body, "user_id")))

    async def friend(body: dict[str, Any]) -> dict[str, Any]:
        robot_id, user_id = _string(body, "robot_id"), _string(body, "user_id")
        robot_allowed(robot_id)
        await asyncio.to_thread(admin.set_friend_status, user_id=robot_id, friend_uid=user_id, status=0)
        await asyncio.to_thread(admin.set_friend_status, user_id=user_id, friend_uid=robot_id, status=0)
        return {}

    routes: dict[str, Handler] = {
        "/cs/robot/upsert": robot_upsert,
        "/cs/robot/account": robot_account,
        "/cs/robot/info": robot_info,
        "/cs/user/info": user_info,
        "/cs/friend": friend,
    }
    verifier = Verifier(key, nonces)

    async def dispatch(request: web.Request) -> web.Response:
        try:
            body_bytes = await request.read()
        except web.HTTPRequestEntityTooLarge:
            return web.json_response({"error": f"body larger than {MAX_BODY_BYTES} bytes"}, status=413)
        try:
            await verifier.verify(headers=dict(request.headers), path=request.path, body=body_bytes)
            # The project's input policy (cs_project.json_input), before anything reaches the IM server.
            body = json_parse(body_bytes or b"{}")
            if not isinstance(body, dict):
                raise Refused(400, "body must be a JSON object")
            result = await routes[request.path](body)
        except AuthRefused as exc:
            logger.warning("refused %s: %s", request.path, exc)
            return web.json_response({"error": str(exc)}, status=401)
        except ReplayCheckUnavailable as exc:
            # Fail closed: a signed request we cannot check for a replay is refused, not run.
            logger.error("refused %s: replay check unavailable: %s", request.path, exc)
            return web.json_response(
                {"error": "replay check unavailable (Redis unreachable); try again", "retryable": True}, status=503
            )
        except Refused as exc:
            return web.json_response({"error": exc.reason}, status=exc.status)
        except JSONRefused as exc:  # not UTF-8, not JSON, nested too deep, a NUL, a lone surrogate
            return web.json_response({"error": f"body {exc.reason}"}, status=400)
        except WfcNotFound:
            return web.json_response({"error": "not found on the IM server", "code": 253}, status=404)
        except WfcError as exc:
            logger.warning("IM admin call for %s failed: %s", request.path, type(exc).__name__)
            return web.json_response({"error": f"IM server: {exc}", "retryable": exc.retryable}, status=502)
        return web.json_response({"result": result})

    async def health(_: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    async def close_nonces(_: web.Application) -> None:
        await nonces.close()

    app = web.Application(client_max_size=MAX_BODY_BYTES)
    app[VERIFIER_KEY] = verifier
    app.on_cleanup.append(close_nonces)
    app.router.add_get("/healthz", health)
    for path in routes:
        app.router.add_post(path, dispatch)
    return app
