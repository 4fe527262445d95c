"""The CS server's settings without psycopg's pool: only to answer "Daphne with or without the pool".

Django then opens a PostgreSQL connection per request (under ASGI its persistent connections
do not outlive the request), which is what the pool exists to avoid.
"""

from __future__ import annotations

from cs_project.settings import *  # noqa: F403
from cs_project.settings import DATABASES

DATABASES["default"].pop("OPTIONS", None)
DATABASES["default"]["CONN_MAX_AGE"] = 0
