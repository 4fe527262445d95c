from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from ratings.models import Rating


@admin.register(Rating)
class RatingAdmin(admin.ModelAdmin[Rating]):
    """Ratings are the customers' words: supervisors read and search them, nobody edits them."""

    list_display = ("session_link", "customer", "seat", "stars", "channel", "comment", "created_at")
    list_filter = ("score", "channel", ("seat", admin.RelatedOnlyFieldListFilter), "created_at")
    search_fields = (
        "comment",
        "session__customer__im_user_id",
        "session__customer__display_name",
        "seat__display_name",
    )
    list_select_related = ("session__customer", "seat")
    readonly_fields = ("session", "seat", "score", "comment", "channel", "created_at")
    date_hierarchy = "created_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Rating | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Rating | None = None) -> bool:
        return False

    @admin.display(description=_("session"), ordering="session")
    def session_link(self, rating: Rating) -> str:
        url = reverse("admin:sessions_app_servicesession_change", args=[rating.session_id])
        return format_html('<a href="{}">#{}</a>', url, rating.session_id)

    @admin.display(description=_("customer"))
    def customer(self, rating: Rating) -> str:
        return str(rating.session.customer)

    @admin.display(description=_("score"), ordering="score")
    def stars(self, rating: Rating) -> str:
        return format_html('<span title="{}">{}</span>', rating.score, "★" * rating.score + "☆" * (5 - rating.score))
