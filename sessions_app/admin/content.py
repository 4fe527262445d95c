"""What supervisors write: the customer-service settings, FAQ entries and canned replies."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext_lazy as _

from sessions_app.bot.matcher import Outcome
from sessions_app.flow.autoanswer import FaqAnswerer
from sessions_app.models import CannedReply, FaqEntry, ServiceSettings
from sessions_app.supervision.bot_trial import bot_trial
from sessions_app.supervision.settings_form import ServiceSettingsForm

# What the bot would do, in the supervisor's words (the customer's words are the reply itself).
OUTCOME_WORDS = {
    Outcome.ANSWER: _("Would answer directly"),
    Outcome.SUGGEST: _("Would offer a list of suggestions"),
    Outcome.UNKNOWN: _("Does not know; would offer a person"),
}


class BotTrialForm(forms.Form):
    q = forms.CharField(
        label=_("Question"),
        max_length=500,
        widget=forms.TextInput(attrs={"size": 60, "autofocus": True}),
        help_text=_("As a customer would type it."),
    )


@admin.register(FaqEntry)
class FaqEntryAdmin(admin.ModelAdmin[FaqEntry]):
    list_display = ("question", "enabled", "rank")
    list_editable = ("enabled", "rank")
    search_fields = ("question", "alternatives", "answer")
    list_filter = ("enabled",)

    def get_urls(self) -> list[URLPattern]:
        test_page = path("test/", self.admin_site.admin_view(self.bot_test_view), name="sessions_app_faqentry_test")
        return [test_page, *super().get_urls()]  # before the catch-all "<path:object_id>/"

    def bot_test_view(self, request: HttpRequest) -> HttpResponse:
        """Type a question, see what the bot would answer and why (``bot_trial``); a GET, so a
        question's page can be bookmarked and shared."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        config = ServiceSettings.load()
        form = BotTrialForm(request.GET if "q" in request.GET else None)
        trial = bot_trial(question=form.cleaned_data["q"], config=config) if form.is_valid() else None
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Test the bot"),
            "form": form,
            "trial": trial,
            "outcome_words": OUTCOME_WORDS[trial.outcome] if trial is not None else "",
            "thresholds": FaqAnswerer.configured(config).thresholds,
            "settings_url": reverse("admin:sessions_app_servicesettings_changelist"),
        }
        return TemplateResponse(request, "admin/sessions_app/faqentry/bot_test.html", context)


@admin.register(CannedReply)
class CannedReplyAdmin(admin.ModelAdmin[CannedReply]):
    list_display = ("shortcut", "owner", "excerpt", "updated_at")
    list_filter = (("owner", admin.EmptyFieldListFilter), ("owner", admin.RelatedOnlyFieldListFilter))
    search_fields = ("shortcut", "text", "owner__display_name")
    list_select_related = ("owner",)

    @admin.display(description=_("text"))
    def excerpt(self, reply: CannedReply) -> str:
        return reply.text if len(reply.text) <= 60 else reply.text[:60] + "…"


@admin.register(ServiceSettings)
class ServiceSettingsAdmin(admin.ModelAdmin[ServiceSettings]):
    """One row: its list goes straight to it, and nobody adds or deletes it."""

    form = ServiceSettingsForm
    # (title, fields, CSS classes): "collapse" shows a group folded, for what most supervisors leave as it is.
    GROUPS: tuple[tuple[Any, tuple[str, ...], tuple[str, ...]], ...] = (
        (
            _("Bot"),
            (
                "welcome_text",
                "common_questions_title",
                "fallback_text",
                "suggest_text",
                "offer_human_text",
                "answer_threshold",
                "suggest_threshold",
                "answer_margin",
                "faq_synonyms",
                "human_intent_phrases",
            ),
            (),
        ),
        (
            _("Keywords and commands"),
            (
                "transfer_keywords",
                "exit_keywords",
                "cancel_queue_keywords",
                "start_service_command",
                "stop_service_command",
            ),
            (),
        ),
        (
            _("Messages to the customer"),
            (
                "assigned_text",
                "transferred_text",
                "queued_text",
                "closed_text",
                "no_servicer_online_text",
                "left_message_received_text",
            ),
            (),
        ),
        (
            _("Idle timers"),
            (
                "bot_idle_minutes",
                "queue_timeout_minutes",
                "human_idle_warning_minutes",
                "human_idle_close_minutes",
                "idle_warning_text",
                "idle_closed_text",
                "queue_timeout_text",
            ),
            (),
        ),
        (
            _("Business hours"),
            (
                "business_hours_enabled",
                "business_hours_start",
                "business_hours_end",
                "business_days",
                "out_of_hours_text",
            ),
            (),
        ),
        (_("Skill groups"), ("skill_group_menu_enabled", "skill_group_menu_text"), ()),
        (_("Rating"), ("rating_prompt_text",), ()),
        (_("Servicers' console"), ("wrap_up_required",), ()),
        (
            _("English texts"),
            (
                "welcome_text_en",
                "common_questions_title_en",
                "fallback_text_en",
                "suggest_text_en",
                "offer_human_text_en",
                "assigned_text_en",
                "transferred_text_en",
                "queued_text_en",
                "closed_text_en",
                "no_servicer_online_text_en",
                "left_message_received_text_en",
                "idle_warning_text_en",
                "idle_closed_text_en",
                "queue_timeout_text_en",
                "out_of_hours_text_en",
                "rating_prompt_text_en",
                "skill_group_menu_text_en",
            ),
            ("collapse",),
        ),
    )

    def get_fieldsets(self, request: HttpRequest, obj: ServiceSettings | None = None) -> Any:
        present = {field.name for field in ServiceSettings._meta.get_fields() if getattr(field, "editable", False)}
        present.discard("id")
        fieldsets: list[tuple[Any, dict[str, Any]]] = []
        for title, names, classes in self.GROUPS:
            shown = [name for name in names if name in present]
            present.difference_update(shown)
            if shown:
                fieldsets.append((title, {"fields": shown, "classes": classes}))
        if present:  # settings added later show up here until they are given a group
            fieldsets.append((_("Other"), {"fields": sorted(present)}))
        return fieldsets

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        row = ServiceSettings.load()
        return HttpResponseRedirect(reverse("admin:sessions_app_servicesettings_change", args=[row.pk]))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: ServiceSettings | None = None) -> bool:
        return False
