from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SessionsAppConfig(AppConfig):
    name = "sessions_app"
    verbose_name = _("Customer-service sessions")

    def ready(self) -> None:
        from django.contrib.auth.models import User
        from django.contrib.auth.signals import user_logged_out
        from django.db.models.signals import post_delete, post_save

        from robots.handlers import FlowHandlers, flow_handlers_register
        from seats.services import seat_status_listener_register
        from sessions_app.console.revocation import consoles_close_on_deactivation, consoles_close_on_logout
        from sessions_app.events import timeline_row_saved
        from sessions_app.flow.customers import customer_profile_read
        from sessions_app.flow.inbound import inbound_dispatch
        from sessions_app.flow.servicer import seat_status_announce
        from sessions_app.flow.transcript import MESSAGES_DELIVERED_SQL
        from sessions_app.models import FaqEntry, SessionEvent, faq_forget

        post_save.connect(faq_forget, sender=FaqEntry, dispatch_uid="sessions_app.faq_forget_on_save")
        post_delete.connect(faq_forget, sender=FaqEntry, dispatch_uid="sessions_app.faq_forget_on_delete")
        post_save.connect(timeline_row_saved, sender=SessionEvent, dispatch_uid="sessions_app.timeline_to_supervisors")
        # Open consoles close when their login ends.
        user_logged_out.connect(consoles_close_on_logout, dispatch_uid="sessions_app.consoles_close_on_logout")
        post_save.connect(
            consoles_close_on_deactivation, sender=User, dispatch_uid="sessions_app.consoles_close_on_deactivation"
        )
        # The Wildfire adapter hands up what belongs to the flow: stored messages, delivery, profiles.
        flow_handlers_register(
            FlowHandlers(
                inbound=inbound_dispatch, delivered_sql=MESSAGES_DELIVERED_SQL, profile_read=customer_profile_read
            )
        )
        seat_status_listener_register(seat_status_announce)
