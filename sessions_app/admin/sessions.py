"""Sessions with their timeline and transcript, customers, and left messages."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from django.contrib import admin, messages
from django.core.exceptions import ObjectDoesNotExist
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.defaultfilters import floatformat
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from seats.models import Seat, SkillGroup
from sessions_app.bot.matcher import Outcome
from sessions_app.flow.closing import session_supervisor_end
from sessions_app.flow.left_messages import left_messages_mark_handled
from sessions_app.models import LeftMessage, Message, ServiceSession, SessionEvent, SessionWrapUp
from sessions_app.reports.figures import seat_segments
from sessions_app.reports.tables import duration_text
from sessions_app.supervision.actions import AdminReassignForm, EndForm, action_confirm_page, admin_reassign
from sessions_app.supervision.control_lines import control_line
from sessions_app.supervision.session_search import SHORT_QUERY_SESSIONS, sessions_search


def _between(start: datetime | None, end: datetime | None) -> str:
    if start is None or end is None:
        return "–"
    return duration_text(max(0.0, (end - start).total_seconds()))


def _seconds(value: timedelta | None) -> float | None:
    return None if value is None else value.total_seconds()


class ReadOnlyInline(admin.TabularInline[Any, ServiceSession]):
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: ServiceSession | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: ServiceSession | None = None) -> bool:
        return False


class SessionEventInline(ReadOnlyInline):
    """The session's timeline: opened, queued, assigned, transferred, first human reply, closed and why."""

    model = SessionEvent
    verbose_name = _("timeline entry")
    verbose_name_plural = _("timeline")
    fields = ("moment", "since_opened", "kind", "seat_name", "what")
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[SessionEvent]:
        return super().get_queryset(request).select_related("seat", "session")

    @admin.display(description=_("time"))
    def moment(self, event: SessionEvent) -> str:
        return date_format(timezone.localtime(event.at), "Y-m-d H:i:s")

    @admin.display(description=_("seat"))
    def seat_name(self, event: SessionEvent) -> str:
        return str(event.seat or "–")

    @admin.display(description=pgettext_lazy("time since the session opened", "after"))
    def since_opened(self, event: SessionEvent) -> str:
        return _between(event.session.opened_at, event.at)

    @admin.display(description=_("details"))
    def what(self, event: SessionEvent) -> str:
        detail = event.detail if isinstance(event.detail, dict) else {}
        if event.kind == SessionEvent.Kind.CLOSED and detail.get("reason"):
            try:
                return str(ServiceSession.CloseReason(detail["reason"]).label)
            except ValueError:
                return str(detail["reason"])
        if event.kind == SessionEvent.Kind.TRANSFERRED:
            ids = [value for value in (detail.get("from_seat"), detail.get("to_seat")) if isinstance(value, int)]
            names = {str(pk): name for pk, name in Seat.objects.filter(pk__in=ids).values_list("pk", "display_name")}
            between = {
                "source": names.get(str(detail.get("from_seat")), "?"),
                "target": names.get(str(detail.get("to_seat")), "?"),
            }
            text = (
                _("taken over from %(source)s by the supervisor %(target)s") % between
                if detail.get("take_over")
                else _("from %(source)s to %(target)s") % between
            )
            return f"{text} · {detail['note']}" if detail.get("note") else str(text)
        return ""


class MessageInline(ReadOnlyInline):
    """The full transcript, in the order the customer saw it."""

    model = Message
    verbose_name = _("message")
    verbose_name_plural = _("transcript")
    fields = ("seq", "sent_at", "author", "seat_name", "content")
    readonly_fields = fields
    # seq is the order the flow stored them in; IM server times can tie or run backwards.
    ordering = ("seq",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Message]:
        return super().get_queryset(request).select_related("seat")

    @admin.display(description=_("seat"))
    def seat_name(self, message: Message) -> str:
        return str(message.seat or "")

    @admin.display(description=_("time"))
    def sent_at(self, message: Message) -> str:
        moment = datetime.fromtimestamp(message.server_timestamp / 1000, tz=timezone.get_current_timezone())
        return date_format(moment, "Y-m-d H:i:s")

    @admin.display(description=_("content"))
    def content(self, message: Message) -> str:
        shown = _message_content(message)
        if message.direction == Message.Direction.INTERNAL:
            return format_html(
                '<span class="cs-internal">{}</span> {}',
                _("Internal (whisper from %(name)s; the customer never saw it)") % {"name": _whisperer(message)},
                shown,
            )
        why = bot_match_line(message.bot_match) if message.author == Message.Author.BOT else None
        if why is None:
            return shown
        return format_html('{}<div class="cs-bot-match">{}</div>', shown, why)


def _whisperer(message: Message) -> str:
    """The supervisor's name a whisper carries (``flow.supervisor.session_supervisor_whisper``)."""
    payload = message.payload if isinstance(message.payload, dict) else {}
    try:
        name = json.loads(str(payload.get("extra") or "{}"))["cs"]["whisper"]["name"]
    except (ValueError, KeyError, TypeError):
        return str(_("a supervisor"))
    return str(name)


def _message_content(message: Message) -> str:
    payload = message.payload if isinstance(message.payload, dict) else {}
    text = payload.get("searchableContent") or payload.get("content") or ""
    url = payload.get("remoteMediaUrl")
    if message.content_type >= 1000:
        line = control_line(content_type=message.content_type, content=payload.get("content"))
        if line is not None:
            return format_html('<span class="cs-control">{}</span>', line)
        return format_html('<span class="cs-control">[{}] {}</span>', message.content_type, text)
    if isinstance(url, str) and _is_web_link(url):
        return format_html('{} <a href="{}" rel="noreferrer" target="_blank">{}</a>', text, url, _("attachment"))
    if url:  # a customer's javascript: or data: URL is shown as text, never as a link
        return format_html("{} ({})", text, url)
    return str(text)


def _score(value: object) -> str:
    """Two decimals, rounded as the "test the bot" page rounds them (``floatformat``)."""
    return floatformat(value, 2) if isinstance(value, int | float) and not isinstance(value, bool) else "?"


def _entry_link(entry_id: object, question: object) -> str:
    if not isinstance(entry_id, int):
        return str(question or "?")
    url = reverse("admin:sessions_app_faqentry_change", args=[entry_id])
    return format_html('<a href="{}">{}</a>', url, question or f"#{entry_id}")


def bot_match_line(detail: object) -> SafeString | None:
    """Why the bot said it, in one line under its message (``Message.bot_match``, written by
    ``BotDecision.detail``): the entry it answered with and the score, the entries it suggested
    with theirs, or that it did not know and how close the best entry came."""
    if not isinstance(detail, dict):
        return None
    candidates = [c for c in detail.get("candidates") or () if isinstance(c, dict)]
    scores = {c.get("entry"): c.get("score") for c in candidates}
    outcome, source = detail.get("outcome"), detail.get("source")
    if outcome == Outcome.ANSWER and source == "http":
        return format_html("{} · {}", _("Answered by the answer endpoint"), _score(detail.get("score")))
    if outcome == Outcome.ANSWER and source == "menu":
        return format_html(
            "{} {}", _("Picked from the list:"), _entry_link(detail.get("entry"), detail.get("question"))
        )
    if outcome == Outcome.ANSWER:
        matched = next((c.get("matched") for c in candidates if c.get("entry") == detail.get("entry")), None)
        line = format_html(
            "{} {} · {}",
            _("Answered with:"),
            _entry_link(detail.get("entry"), detail.get("question")),
            _score(detail.get("score")),
        )
        if isinstance(matched, list) and matched:
            line = format_html("{} · {} {}", line, _("matched:"), " ".join(str(word) for word in matched))
        return line
    if outcome == Outcome.SUGGEST:
        listed = [s for s in detail.get("suggestions") or () if isinstance(s, dict)]
        entries = format_html_join(
            " · ",
            "{} {}",
            ((_entry_link(s.get("entry"), s.get("question")), _score(scores.get(s.get("entry")))) for s in listed),
        )
        return format_html("{} {}", _("Suggested:"), entries)
    if outcome == Outcome.UNKNOWN:
        if candidates:
            best = _score(candidates[0].get("score"))
            return format_html("{} ({})", _("Did not know"), _("best score %(score)s") % {"score": best})
        return format_html("{}", _("Did not know"))
    return None


def _is_web_link(url: str) -> bool:
    """An absolute http(s) URL (parsed as browsers do: surrounding blanks and tabs ignored)."""
    parts = urlsplit(url.strip())
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _short_time(moment: datetime | None) -> str:
    if moment is None:
        return "–"
    local = timezone.localtime(moment)
    return format_html('<span title="{}">{}</span>', date_format(local, "Y-m-d H:i:s"), date_format(local, "m-d H:i"))


class RatedFilter(admin.SimpleListFilter):
    title = _("rated")
    parameter_name = "rated"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin[Any]) -> list[tuple[str, str]]:
        return [("yes", str(_("Rated"))), ("no", str(_("Not rated")))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[ServiceSession]) -> QuerySet[ServiceSession]:
        if self.value() == "yes":
            return queryset.filter(rating__isnull=False)
        if self.value() == "no":
            return queryset.filter(rating__isnull=True)
        return queryset


class SkillGroupFilter(admin.SimpleListFilter):
    """The group the customer chose (every group, then "no group")."""

    title = _("skill group")
    parameter_name = "skill_group"
    NONE = "none"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin[Any]) -> list[tuple[str, str]]:
        groups = SkillGroup.objects.order_by("menu_order", "name", "pk").values_list("pk", "name")
        return [*((str(pk), name) for pk, name in groups), (self.NONE, str(_("No skill group")))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[ServiceSession]) -> QuerySet[ServiceSession]:
        value = self.value()
        if value == self.NONE:
            return queryset.filter(skill_group__isnull=True)
        if value is not None and value.isdigit():
            return queryset.filter(skill_group_id=int(value))
        return queryset


@admin.register(ServiceSession)
class ServiceSessionAdmin(admin.ModelAdmin[ServiceSession]):
    list_display = (
        "id",
        "customer_label",
        "state",
        "seat",
        "skill_group_name",
        "opened_short",
        "queue_wait",
        "first_response",
        "closed_short",
        "close_reason",
        "score",
    )
    list_display_links = ("id", "customer_label")
    list_filter = (
        "state",
        ("seat", admin.RelatedOnlyFieldListFilter),
        SkillGroupFilter,
        "close_reason",
        RatedFilter,
        "opened_at",
    )
    # The search itself is get_search_results; the fields only make the admin show the box.
    search_fields = ("customer__im_user_id", "customer__display_name")
    search_help_text = _("Customer name or IM id, session number (#12), or any text of the chat (an order number).")
    list_select_related = ("customer", "seat", "rating", "skill_group")
    date_hierarchy = "opened_at"
    inlines = (SessionEventInline, MessageInline)
    actions = ("reassign", "force_end")
    fieldsets = (
        (None, {"fields": ("customer_link", "state", "seat", "close_reason", "rated_seat", "score")}),
        (_("Times"), {"fields": ("opened_at", "queued_at", "assigned_at", "first_human_reply_at", "closed_at")}),
        (_("Figures"), {"fields": ("queue_wait", "first_response", "segments")}),
        (_("Wrap-up"), {"fields": ("wrap_up_shown",)}),
    )
    readonly_fields = (
        "customer_link",
        "state",
        "seat",
        "close_reason",
        "rated_seat",
        "score",
        "opened_at",
        "queued_at",
        "assigned_at",
        "first_human_reply_at",
        "closed_at",
        "queue_wait",
        "first_response",
        "segments",
        "wrap_up_shown",
    )

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[ServiceSession], search_term: str
    ) -> tuple[QuerySet[ServiceSession], bool]:
        """One box for the customer, the session's number and the text of its messages
        (supervision.session_search); never duplicate rows."""
        search = sessions_search(sessions=queryset, query=search_term)
        if search.recent_only:
            note = _("Words of one or two characters are looked for in the messages of the newest %(count)s sessions.")
            self.message_user(request, note % {"count": f"{SHORT_QUERY_SESSIONS:,}"}, messages.INFO)
        return search.sessions, False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: ServiceSession | None = None) -> bool:
        # "change" unlocks the end action on the list; one session's page is a read-only record.
        return obj is None and super().has_change_permission(request)

    def has_delete_permission(self, request: HttpRequest, obj: ServiceSession | None = None) -> bool:
        return False

    @admin.display(description=_("customer"), ordering="customer__display_name")
    def customer_label(self, session: ServiceSession) -> str:
        customer = session.customer
        if customer.display_name and customer.display_name != customer.im_user_id:
            return format_html('{} <span class="cs-quiet">{}</span>', customer.display_name, customer.im_user_id)
        return customer.im_user_id

    @admin.display(description=_("skill group"), ordering="skill_group__name", empty_value="—")
    def skill_group_name(self, session: ServiceSession) -> str | None:
        return None if session.skill_group is None else str(session.skill_group)

    # Month-day and time in the list (the full date in the tooltip), so that every column fits at 1,440 px.
    @admin.display(description=_("opened at"), ordering="opened_at")
    def opened_short(self, session: ServiceSession) -> str:
        return _short_time(session.opened_at)

    @admin.display(description=_("closed at"), ordering="closed_at")
    def closed_short(self, session: ServiceSession) -> str:
        return _short_time(session.closed_at)

    @admin.display(description=_("customer"))
    def customer_link(self, session: ServiceSession) -> str:
        url = reverse("admin:sessions_app_customer_change", args=[session.customer_id])
        return format_html('<a href="{}">{}</a>', url, self.customer_label(session))

    @admin.display(description=_("queue wait"))
    def queue_wait(self, session: ServiceSession) -> str:
        return _between(session.queued_at, session.assigned_at)

    @admin.display(description=_("first response"))
    def first_response(self, session: ServiceSession) -> str:
        return _between(session.assigned_at, session.first_human_reply_at)

    @admin.display(description=_("rating"))
    def score(self, session: ServiceSession) -> str:
        try:
            return "★" * session.rating.score
        except ObjectDoesNotExist:
            return "–"

    @admin.display(description=_("wrap-up"))
    def wrap_up_shown(self, session: ServiceSession) -> SafeString | str:
        """The tags and summary its servicer gave the chat when it ended (not named ``wrap_up``: the
        admin would show the model's reverse relation of that name instead)."""
        wrap_up = SessionWrapUp.objects.filter(session=session).select_related("seat").first()
        if wrap_up is None:
            return "–"
        tags = format_html_join(" ", '<span class="cs-tag">{}</span>', ((tag.name,) for tag in wrap_up.tags.all()))
        written = date_format(timezone.localtime(wrap_up.written_at), "Y-m-d H:i")
        return format_html(
            '<div>{}</div><div class="cs-wrap-up">{}</div><div class="cs-quiet">{} · {}</div>',
            tags,
            wrap_up.summary,
            wrap_up.seat or "–",
            written,
        )

    @admin.display(description=_("seat segments"))
    def segments(self, session: ServiceSession) -> SafeString | str:
        """Each seat's part of the session, as the reports count it."""
        rows = list(seat_segments(ServiceSession.objects.filter(pk=session.pk)).select_related("seat").order_by("at"))
        if not rows:
            return "–"
        header = format_html(
            "<tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>",
            _("seat"),
            pgettext_lazy("start of a seat segment", "from"),
            _("first response"),
            _("handling time"),
        )
        body = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    row.seat,
                    date_format(timezone.localtime(row.at), "H:i:s"),
                    duration_text(_seconds(getattr(row, "first_response", None))),
                    duration_text(_seconds(getattr(row, "handling", None))),
                )
                for row in rows
            ),
        )
        return format_html('<table class="cs-segments">{}{}</table>', header, body)

    @admin.action(description=_("Reassign the selected sessions"), permissions=("change",))
    def reassign(self, request: HttpRequest, queryset: QuerySet[ServiceSession]) -> TemplateResponse | None:
        """A page to choose the seat (or the queue) and a note, then each session moves as a transfer."""
        form = AdminReassignForm(request.POST if request.POST.get("confirm") else None)
        if not form.is_valid():
            return action_confirm_page(
                request,
                self,
                queryset,
                action="reassign",
                form=form,
                title=_("Reassign sessions"),
                question=_("Reassign these sessions? The receiving servicer sees the note."),
                submit_label=_("Reassign"),
            )
        ids = list(queryset.values_list("pk", flat=True))
        moved, refusals = admin_reassign(session_ids=ids, cleaned=form.cleaned_data)
        self.message_user(request, _("%(count)d sessions reassigned.") % {"count": moved}, messages.SUCCESS)
        for refusal in refusals:
            self.message_user(request, refusal, messages.WARNING)
        return None

    @admin.action(description=_("End the selected sessions"), permissions=("change",))
    def force_end(self, request: HttpRequest, queryset: QuerySet[ServiceSession]) -> TemplateResponse | None:
        """A confirmation page with the reason first (the customer and the servicer see it)."""
        form = EndForm(request.POST if request.POST.get("confirm") else None)
        if not form.is_valid():
            return action_confirm_page(
                request,
                self,
                queryset,
                action="force_end",
                form=form,
                title=_("End sessions"),
                question=_("End these sessions? The customers and their servicers see the reason."),
                submit_label=_("Yes, end them"),
            )
        note = form.cleaned_data["note"]
        ended = sum(session_supervisor_end(session_id=pk, note=note) for pk in queryset.values_list("pk", flat=True))
        self.message_user(request, _("%(count)d sessions ended.") % {"count": ended}, messages.SUCCESS)
        return None


class HandledFilter(admin.SimpleListFilter):
    title = _("handled")
    parameter_name = "handled"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin[Any]) -> list[tuple[str, str]]:
        return [("no", str(_("Not yet"))), ("yes", str(_("Handled")))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[LeftMessage]) -> QuerySet[LeftMessage]:
        if self.value() in ("yes", "no"):
            return queryset.filter(handled_at__isnull=self.value() == "no")
        return queryset


@admin.register(LeftMessage)
class LeftMessageAdmin(admin.ModelAdmin[LeftMessage]):
    list_display = ("customer", "text", "created_at", "handled_by", "handled_at")
    search_fields = ("customer__im_user_id", "customer__display_name", "text")
    list_filter = (HandledFilter, "created_at")
    list_select_related = ("customer", "handled_by")
    readonly_fields = ("customer", "session", "text", "created_at", "handled_by", "handled_at")
    date_hierarchy = "created_at"
    actions = ("mark_handled",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: LeftMessage | None = None) -> bool:
        return obj is None and super().has_change_permission(request)

    @admin.action(description=_("Mark the selected messages handled"), permissions=("change",))
    def mark_handled(self, request: HttpRequest, queryset: QuerySet[LeftMessage]) -> None:
        count = left_messages_mark_handled(message_ids=list(queryset.values_list("pk", flat=True)))
        self.message_user(request, _("%(count)d messages marked handled.") % {"count": count}, messages.SUCCESS)
