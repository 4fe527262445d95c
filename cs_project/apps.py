from __future__ import annotations

from django.apps import AppConfig


class CsProjectConfig(AppConfig):
    name = "cs_project"
    verbose_name = "Customer service"
