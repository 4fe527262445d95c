"""``bench.baseline.asgi:application``, served by ``python -m cs_project.asgi_server``."""

from __future__ import annotations

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.baseline.settings")

from django.core.asgi import get_asgi_application

application = get_asgi_application()
