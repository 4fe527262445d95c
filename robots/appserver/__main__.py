"""``python -m robots.appserver``: run the App Server (reads its settings from the environment)."""

from __future__ import annotations

import logging
import os
import sys

from aiohttp import web

from robots.appserver.nonces import RedisNonceStore
from robots.appserver.server import build_app
from robots.wfprotocol import AdminClient


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s appserver %(message)s")
    missing = [name for name in ("CS_APP_SERVER_KEY", "WFC_ADMIN_SECRET", "REDIS_URL") if not os.environ.get(name)]
    if missing:
        sys.exit(f"app server: {', '.join(missing)} must be set")
    key = os.environ["CS_APP_SERVER_KEY"]
    if len(key) < 32:
        sys.exit("app server: CS_APP_SERVER_KEY must be at least 32 characters")
    port_text = os.environ.get("CS_APP_SERVER_PORT", "8890")
    if not port_text.isdigit():
        sys.exit(f"app server: CS_APP_SERVER_PORT must be a port number, got {port_text!r}")
    admin = AdminClient(os.environ.get("WFC_ADMIN_API_URL", "http://127.0.0.1:18080"), os.environ["WFC_ADMIN_SECRET"])
    app = build_app(
        key=key,
        admin=admin,
        cs_robot_id=os.environ.get("CS_ROBOT_ID", "cs_robot"),
        nonces=RedisNonceStore(os.environ["REDIS_URL"]),  # nonces seen, shared by every App Server process
    )
    web.run_app(app, host=os.environ.get("CS_APP_SERVER_HOST", "127.0.0.1"), port=int(port_text), print=None)


if __name__ == "__main__":
    main()
