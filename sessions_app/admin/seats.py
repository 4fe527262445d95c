from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.options import InlineModelAdmin
from django.contrib.auth.models import User
from django.contrib.auth.password_validation import validate_password
from django.db.models import Count, Q, QuerySet
from django.forms import ModelForm
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from cs_project.errors import ApplicationError
from seats.hours import business_days_error
from seats.models import Seat, SkillGroup
from seats.services import seat_capacity_set, servicer_account_create, servicer_password_set
from sessions_app.flow.supervisor import seat_supervisor_status_set
from sessions_app.models import ServiceSession
from sessions_app.supervision.actions import SeatChatsForm, action_confirm_page


def _avatar_field() -> forms.URLField:
    return forms.URLField(label=_("avatar URL"), required=False, assume_scheme="https")


class SeatAddForm(forms.ModelForm[Seat]):
    """Creating a seat creates its servicer's login too: supervisors never edit user accounts."""

    avatar_url = _avatar_field()
    username = forms.CharField(label=_("login"), max_length=150)
    password = forms.CharField(label=_("password"), widget=forms.PasswordInput(render_value=False), strip=False)

    class Meta:
        model = Seat
        fields = ("display_name", "avatar_url", "im_user_id", "capacity", "skill_groups")

    def clean_username(self) -> str:
        username: str = self.cleaned_data["username"]
        if User.objects.filter(username=username).exists():
            raise forms.ValidationError(_("This login is already taken."))
        return username

    def clean_password(self) -> str:
        password: str = self.cleaned_data["password"]
        validate_password(password)
        return password


class SeatChangeForm(forms.ModelForm[Seat]):
    avatar_url = _avatar_field()
    new_password = forms.CharField(
        label=_("new password"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False),
        help_text=_("Leave empty to keep the servicer's password."),
    )

    class Meta:
        model = Seat
        fields = ("display_name", "avatar_url", "im_user_id", "capacity", "skill_groups")

    def clean_new_password(self) -> str:
        password: str = self.cleaned_data["new_password"]
        if password:
            validate_password(password, user=self.instance.user)
        return password


class OpenSessionInline(admin.TabularInline[ServiceSession, Seat]):
    """The seat's sessions in progress, each linking to its transcript."""

    model = ServiceSession
    fk_name = "seat"
    verbose_name = _("session in progress")
    verbose_name_plural = _("sessions in progress")
    fields = ("session_link", "customer", "assigned_at", "first_human_reply_at", "last_customer_activity_at")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[ServiceSession]:
        return super().get_queryset(request).filter(state=ServiceSession.State.HUMAN).select_related("customer")

    def has_add_permission(self, request: HttpRequest, obj: Seat | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Seat | None = None) -> bool:
        return False

    @admin.display(description=_("session"))
    def session_link(self, session: ServiceSession) -> str:
        url = reverse("admin:sessions_app_servicesession_change", args=[session.pk])
        return format_html('<a href="{}">#{}</a>', url, session.pk)


@admin.register(Seat)
class SeatAdmin(admin.ModelAdmin[Seat]):
    list_display = ("display_name", "user", "status_badge", "load", "groups", "im_user_id", "last_assigned_at")
    list_filter = ("status", "skill_groups")
    search_fields = ("display_name", "user__username", "im_user_id")
    list_select_related = ("user",)
    filter_horizontal = ("skill_groups",)
    readonly_fields = ("user", "status", "active_sessions", "status_changed_at", "last_assigned_at")
    actions = ("set_online", "set_away", "set_offline")
    ordering = ("display_name",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Seat]:
        return super().get_queryset(request).prefetch_related("skill_groups")

    def get_inlines(self, request: HttpRequest, obj: Seat | None) -> list[type[InlineModelAdmin[Any, Any]]]:
        return [OpenSessionInline] if obj is not None else []  # the add form has no sessions to show

    def get_form(
        self,
        request: HttpRequest,
        obj: Seat | None = None,
        change: bool = False,  # noqa: FBT001, FBT002 - Django's signature
        **kwargs: Any,
    ) -> type[ModelForm[Seat]]:
        kwargs["form"] = SeatChangeForm if obj is not None else SeatAddForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fieldsets(self, request: HttpRequest, obj: Seat | None = None) -> Any:
        profile = ("display_name", "avatar_url", "im_user_id", "capacity", "skill_groups")
        if obj is None:
            return ((None, {"fields": ("username", "password")}), (_("Profile"), {"fields": profile}))
        return (
            (None, {"fields": ("user", "new_password")}),
            (_("Profile"), {"fields": profile}),
            (_("State"), {"fields": ("status", "active_sessions", "status_changed_at", "last_assigned_at")}),
        )

    def get_readonly_fields(self, request: HttpRequest, obj: Seat | None = None) -> tuple[str, ...]:
        return self.readonly_fields if obj is not None else ()

    def save_model(
        self,
        request: HttpRequest,
        obj: Seat,
        form: ModelForm[Seat],
        change: bool,  # noqa: FBT001 - Django's signature
    ) -> None:
        if not change:
            obj.user = servicer_account_create(
                username=form.cleaned_data["username"], password=form.cleaned_data["password"]
            )
        super().save_model(request, obj, form, change)
        if change and "capacity" in form.changed_data:
            seat_capacity_set(seat=obj, capacity=form.cleaned_data["capacity"])  # pushed to the console
        if change and form.cleaned_data.get("new_password"):
            try:
                servicer_password_set(seat=obj, password=form.cleaned_data["new_password"])
            except ApplicationError as error:
                self.message_user(request, error.message, messages.ERROR)

    @admin.display(description=_("status"), ordering="status")
    def status_badge(self, seat: Seat) -> str:
        return format_html('<span class="cs-status cs-status-{}">{}</span>', seat.status, seat.get_status_display())

    @admin.display(description=_("load"), ordering="active_sessions")
    def load(self, seat: Seat) -> str:
        percent = min(100, round(100 * seat.active_sessions / seat.capacity)) if seat.capacity else 100
        # A <meter>: a width in a style attribute would be refused by the CSP.
        return format_html(
            '<meter class="cs-load" min="0" max="100" value="{}" title="{}%"></meter> {}/{}',
            percent,
            percent,
            seat.active_sessions,
            seat.capacity,
        )

    @admin.display(description=_("skill groups"))
    def groups(self, seat: Seat) -> str:
        return ", ".join(group.name for group in seat.skill_groups.all())

    @admin.action(description=_("Set the selected seats online"), permissions=("change",))
    def set_online(self, request: HttpRequest, queryset: QuerySet[Seat]) -> None:
        self._set_status(request, queryset, Seat.Status.ONLINE)

    @admin.action(description=_("Set the selected seats away"), permissions=("change",))
    def set_away(self, request: HttpRequest, queryset: QuerySet[Seat]) -> TemplateResponse | None:
        return self._set_status(request, queryset, Seat.Status.AWAY)

    @admin.action(description=_("Set the selected seats offline"), permissions=("change",))
    def set_offline(self, request: HttpRequest, queryset: QuerySet[Seat]) -> TemplateResponse | None:
        return self._set_status(request, queryset, Seat.Status.OFFLINE)

    def _set_status(
        self, request: HttpRequest, queryset: QuerySet[Seat], status: Seat.Status
    ) -> TemplateResponse | None:
        """Seats with open chats get a page first: their chats go back to the queue or stay."""
        seats = list(queryset)
        busy = status != Seat.Status.ONLINE and any(seat.active_sessions for seat in seats)
        form = SeatChatsForm(request.POST if request.POST.get("confirm") else None)
        if busy and not form.is_valid():
            return action_confirm_page(
                request,
                self,
                queryset,
                action=request.POST.get("action", ""),
                form=form,
                title=_("Change the seats' status"),
                question=_("These seats have chats in progress. What becomes of them?"),
                submit_label=_("Apply"),
            )
        requeue = busy and form.cleaned_data["requeue"] == "requeue"
        note = form.cleaned_data["note"] if busy else ""
        requeued = sum(
            seat_supervisor_status_set(seat_id=seat.pk, status=status, requeue=requeue, note=note) for seat in seats
        )
        self.message_user(
            request,
            _("%(count)d seats updated, %(requeued)d chats back in the queue.")
            % {"count": len(seats), "requeued": requeued},
            messages.SUCCESS,
        )
        return None


class SkillGroupForm(forms.ModelForm[SkillGroup]):
    """A group's own business hours must make sense before customers are told them."""

    class Meta:
        model = SkillGroup
        fields = (
            "name",
            "name_en",
            "description",
            "menu_order",
            "keywords",
            "overflow_minutes",
            "own_hours",
            "hours_start",
            "hours_end",
            "business_days",
        )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        days = cleaned.get("business_days")
        if isinstance(days, str) and (days_error := business_days_error(days)):
            self.add_error("business_days", days_error)
        start, end = cleaned.get("hours_start"), cleaned.get("hours_end")
        if cleaned.get("own_hours") and start is not None and end is not None and start >= end:
            self.add_error("hours_end", _("Business hours must end after they start."))
        return cleaned


@admin.register(SkillGroup)
class SkillGroupAdmin(admin.ModelAdmin[SkillGroup]):
    form = SkillGroupForm
    list_display = ("name", "menu_order", "seat_count", "online_count", "waiting_count", "overflow_minutes")
    list_editable = ("menu_order",)
    search_fields = ("name", "description", "keywords")
    fieldsets = (
        (None, {"fields": ("name", "name_en", "description", "menu_order", "keywords")}),
        (_("Queue"), {"fields": ("overflow_minutes",)}),
        (_("Business hours"), {"fields": ("own_hours", "hours_start", "hours_end", "business_days")}),
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[SkillGroup]:
        return (
            super()
            .get_queryset(request)
            .annotate(
                seat_total=Count("seats", distinct=True),
                seat_online=Count("seats", filter=Q(seats__status=Seat.Status.ONLINE), distinct=True),
                waiting=Count("sessions", filter=Q(sessions__state=ServiceSession.State.QUEUED), distinct=True),
            )
        )

    @admin.display(description=_("seats"), ordering="seat_total")
    def seat_count(self, group: SkillGroup) -> int:
        return int(getattr(group, "seat_total", 0))

    @admin.display(description=_("online"), ordering="seat_online")
    def online_count(self, group: SkillGroup) -> int:
        return int(getattr(group, "seat_online", 0))

    @admin.display(description=_("waiting"), ordering="waiting")
    def waiting_count(self, group: SkillGroup) -> int:
        return int(getattr(group, "waiting", 0))
