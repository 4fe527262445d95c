from __future__ import annotations

import os
from typing import Any

from celery import Celery
from celery.signals import beat_init, celeryd_init

from cs_project.bootstrap import prepare_environment

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cs_project.settings")

app = Celery("cs_project")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@celeryd_init.connect
@beat_init.connect
def _start_embedded_services(**_: Any) -> None:
    prepare_environment()
