from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from robots.callbacks import inbound_retry_failed
from robots.models import InboundMessage, OutboundMessage, Robot
from robots.outbox import outbox_retry_failed, outbox_stop_trying


@admin.register(Robot)
class RobotAdmin(admin.ModelAdmin[Robot]):
    # The secret and the callback token are never shown (they are not editable fields).
    list_display = ("robot_id", "kind", "shadow_of", "provisioned_at")
    list_filter = ("kind",)
    search_fields = ("robot_id", "shadow_of")
    readonly_fields = ("robot_id", "kind", "shadow_of", "provisioned_at", "created_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(InboundMessage)
class InboundMessageAdmin(admin.ModelAdmin[InboundMessage]):
    list_display = (
        "message_id",
        "robot",
        "sender",
        "state",
        "attempts",
        "next_attempt_at",
        "last_error",
        "received_at",
    )
    list_filter = ("state", "robot__kind")
    search_fields = ("sender", "message_id")
    list_select_related = ("robot",)
    readonly_fields = [f.name for f in InboundMessage._meta.fields]
    actions = ("retry",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description=_("Act again on the selected messages that failed"))
    def retry(self, request: HttpRequest, queryset: QuerySet[InboundMessage]) -> None:
        count = inbound_retry_failed(inbound_ids=list(queryset.values_list("pk", flat=True)))
        self.message_user(request, _("%(count)d messages put back in line.") % {"count": count}, messages.SUCCESS)


@admin.register(OutboundMessage)
class OutboundMessageAdmin(admin.ModelAdmin[OutboundMessage]):
    list_display = ("id", "ordering_key", "target_user_id", "state", "attempts", "last_error", "created_at", "sent_at")
    list_filter = ("state", "sender_kind")
    search_fields = ("target_user_id", "ordering_key")
    readonly_fields = [f.name for f in OutboundMessage._meta.fields]
    actions = ("retry", "stop_trying")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description=_("Retry the selected failed messages"))
    def retry(self, request: HttpRequest, queryset: QuerySet[OutboundMessage]) -> None:
        count = outbox_retry_failed(row_ids=list(queryset.values_list("pk", flat=True)))
        self.message_user(
            request, _("%(count)d messages queued for delivery again.") % {"count": count}, messages.SUCCESS
        )

    @admin.action(description=_("Stop trying the selected pending messages (mark them failed)"))
    def stop_trying(self, request: HttpRequest, queryset: QuerySet[OutboundMessage]) -> None:
        count = outbox_stop_trying(row_ids=list(queryset.values_list("pk", flat=True)), by=request.user.get_username())
        self.message_user(
            request,
            _("%(count)d messages marked failed; their conversations go on with the next message.") % {"count": count},
            messages.SUCCESS,
        )
