from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SessionsAppConfig(AppConfig):
    name = "sessions_app"
    verbose_name = _("Customer-service sessions")

    def ready(self) -> None:
        from django.db.models.signals import post_save

        from robots.callbacks import inbound_handler_register
        from sessions_app.events import timeline_row_saved
        from sessions_app.models import SessionEvent
        from sessions_app.services.inbound import inbound_dispatch

        post_save.connect(timeline_row_saved, sender=SessionEvent, dispatch_uid="sessions_app.timeline_to_supervisors")
        # The Wildfire adapter hands every stored customer or servicer message to the flow.
        inbound_handler_register(inbound_dispatch)
