from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RatingsConfig(AppConfig):
    name = "ratings"
    verbose_name = _("Ratings")

    def ready(self) -> None:
        from ratings.services import rating_from_chat, rating_url
        from sessions_app.hooks import RatingHooks, rating_hooks_register

        # The flow offers a rating on close and hands a reply after the close to us.
        rating_hooks_register(RatingHooks(link=rating_url, reply_after_close=rating_from_chat))
