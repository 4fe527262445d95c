"""Customers (their IM profile, tags and the notes servicers keep about them) and the tags in use."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from sessions_app.models import Customer, CustomerNote, Tag


class CustomerNoteInline(admin.TabularInline[CustomerNote, Customer]):
    """Servicers write the notes in the console; here they are read."""

    model = CustomerNote
    extra = 0
    can_delete = False
    fields = ("created_at", "author", "text")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Customer | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Customer | None = None) -> bool:
        return False


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin[Customer]):
    list_display = ("customer_label", "tag_list", "created_at", "session_count")
    list_filter = (("tags", admin.RelatedOnlyFieldListFilter), "created_at")
    search_fields = ("im_user_id", "display_name", "tags__name")
    fields = ("im_user_id", "display_name", "avatar_url", "created_at", "session_count", "tags")
    readonly_fields = ("im_user_id", "display_name", "avatar_url", "created_at", "session_count")
    autocomplete_fields = ("tags",)
    inlines = (CustomerNoteInline,)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Customer]:
        return super().get_queryset(request).annotate(session_total=Count("sessions")).prefetch_related("tags")

    @admin.display(description=_("customer"), ordering="display_name")
    def customer_label(self, customer: Customer) -> SafeString | str:
        """The name, with the IM id beside it; the IM id alone only while the name is unknown."""
        if customer.display_name and customer.display_name != customer.im_user_id:
            return format_html('{} <span class="cs-quiet">{}</span>', customer.display_name, customer.im_user_id)
        return customer.im_user_id

    @admin.display(description=_("tags"))
    def tag_list(self, customer: Customer) -> SafeString:
        return format_html_join(" ", '<span class="cs-tag">{}</span>', ((tag.name,) for tag in customer.tags.all()))

    @admin.display(description=_("sessions"), ordering="session_total")
    def session_count(self, customer: Customer) -> str:
        url = reverse("admin:sessions_app_servicesession_changelist") + f"?q={customer.im_user_id}"
        return format_html('<a href="{}">{}</a>', url, getattr(customer, "session_total", 0))


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin[Tag]):
    """Tags servicers made in the console: supervisors rename a misspelt one or delete one not wanted."""

    list_display = ("name", "customer_count", "wrap_up_count", "created_at")
    search_fields = ("name",)
    fields = ("name",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Tag]:
        return (
            super()
            .get_queryset(request)
            .annotate(customer_total=Count("customers", distinct=True), wrap_up_total=Count("wrap_ups", distinct=True))
        )

    @admin.display(description=_("customers"), ordering="customer_total")
    def customer_count(self, tag: Tag) -> int:
        return int(getattr(tag, "customer_total", 0))

    @admin.display(description=_("wrap-ups"), ordering="wrap_up_total")
    def wrap_up_count(self, tag: Tag) -> int:
        return int(getattr(tag, "wrap_up_total", 0))
