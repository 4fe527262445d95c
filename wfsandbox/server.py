"""One asyncio process serving both ports until SIGTERM or SIGINT."""

from __future__ import annotations

import asyncio
import logging
import signal

from aiohttp import web

from wfsandbox import app_admin, app_robot, pages, sandbox_api
from wfsandbox.callbacks import CallbackDispatcher
from wfsandbox.config import Settings
from wfsandbox.routing import Router
from wfsandbox.runtime import Runtime
from wfsandbox.store import Store
from wfsandbox.wire import PORT_NAME, SERVICES, Services, access_log, head_is_an_empty_200, unknown_route_is_500

logger = logging.getLogger("wfsandbox")


def build_robot_app(services: Services) -> web.Application:
    """Port 80's stand-in: ``/robot/*``, plus the sandbox pages and API under ``/sandbox/``."""
    app = web.Application(middlewares=[access_log, head_is_an_empty_200, unknown_route_is_500])
    app[SERVICES] = services
    app[PORT_NAME] = "robot"
    app_robot.add_routes(app)
    sandbox_api.add_routes(app)
    pages.add_routes(app)
    return app


def build_admin_app(services: Services) -> web.Application:
    """Port 18080's stand-in: only ``/admin/*`` is routed there (§1)."""
    app = web.Application(middlewares=[access_log, head_is_an_empty_200, unknown_route_is_500])
    app[SERVICES] = services
    app[PORT_NAME] = "admin"
    app_admin.add_routes(app)
    return app


async def serve(settings: Settings) -> None:
    store = Store(settings.db_path)
    callbacks = CallbackDispatcher()
    await callbacks.start()
    runtime = Runtime(settings)
    services = Services(
        store=store,
        callbacks=callbacks,
        runtime=runtime,
        router=Router(store=store, callbacks=callbacks, runtime=runtime),
    )
    runners = [
        web.AppRunner(build_robot_app(services), access_log=None),
        web.AppRunner(build_admin_app(services), access_log=None),
    ]
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    try:
        for runner, port in zip(runners, (settings.robot_port, settings.admin_port), strict=True):
            await runner.setup()
            await web.TCPSite(runner, settings.host, port).start()
        logger.info(
            "wfsandbox ready: robot API and pages http://%s:%d/ (pages at /sandbox/customer, /sandbox/servicer), "
            "admin API http://%s:%d/, database %s",
            settings.host,
            settings.robot_port,
            settings.host,
            settings.admin_port,
            settings.db_path,
        )
        await stop.wait()
        logger.info("wfsandbox stopping")
    finally:
        for runner in runners:
            await runner.cleanup()
        await callbacks.close()
        store.close()
    logger.info("wfsandbox stopped")
