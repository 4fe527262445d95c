"""The supervisors' admin, split by what they do there: seats, content (FAQ, settings), sessions, customers."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from sessions_app.admin import content, customers, seats, sessions

admin.site.site_header = _("Customer service administration")
admin.site.site_title = _("Customer service")

__all__ = ["content", "customers", "seats", "sessions"]
