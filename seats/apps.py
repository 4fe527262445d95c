from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SeatsConfig(AppConfig):
    name = "seats"
    verbose_name = _("Seats")
