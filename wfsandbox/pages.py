"""The two demo pages on the robot port: a customer's chat with the CS Robot and a servicer's IM app.

Plain HTML, CSS and JavaScript served from this package (no CDN, no build step); they talk to
``/sandbox/api/*`` and poll it once a second for new messages.
"""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

PACKAGE_DIR = Path(__file__).resolve().parent
TEMPLATES_DIR = PACKAGE_DIR / "templates"
STATIC_DIR = PACKAGE_DIR / "static"
PAGES = {"customer": "customer.html", "servicer": "servicer.html", "": "index.html"}


def _page(filename: str) -> web.Response:
    html = (TEMPLATES_DIR / filename).read_text(encoding="utf-8")
    return web.Response(text=html, content_type="text/html", charset="utf-8", headers={"Cache-Control": "no-store"})


async def page(request: web.Request) -> web.StreamResponse:
    filename = PAGES.get(request.match_info["page"])
    if filename is None:
        raise web.HTTPNotFound
    return _page(filename)


def add_routes(app: web.Application) -> None:
    app.router.add_static("/sandbox/static", STATIC_DIR)
    app.router.add_get("/sandbox/{page:(customer|servicer|)}", page)
