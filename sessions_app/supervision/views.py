"""The supervisors' pages inside the admin: the live view and the reports (with CSV export).

Each view reads its input, calls selectors and renders; every figure comes from
``sessions_app.supervision.live`` and ``sessions_app.reports.figures``.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from urllib.parse import urlencode

from django import forms
from django.contrib import admin
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache

from cs_project.errors import ApplicationError
from cs_project.json_input import json_parse
from seats.models import Seat, SkillGroup
from seats.services import user_may_supervise
from sessions_app.reports.charts import report_charts
from sessions_app.reports.figures import report_build
from sessions_app.reports.period import MAX_PERIOD_DAYS, Period, Preset
from sessions_app.reports.tables import Table, common_definition, report_tables
from sessions_app.supervision.actions import (
    ActionOutcome,
    live_end,
    live_reassign,
    live_seat_status,
    live_take_over,
    live_whisper,
)
from sessions_app.supervision.live import live_snapshot, monitor_strings, session_monitor_read

View = Callable[..., HttpResponse]
StrOrPromise = str | Promise
DEFAULT_REPORT_DAYS = 7


def supervisor_view(view: View) -> View:
    """Staff only (others go to the admin login), then the supervisors' permission (else 403)."""

    @wraps(view)
    def checked(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        if not user_may_supervise(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return admin.site.admin_view(checked)


PRESET_LABELS: dict[Preset, StrOrPromise] = {
    "today": _("Today"),
    "7d": _("Last 7 days"),
    "30d": _("Last 30 days"),
    "month": _("This month"),
}


class ReportPeriodForm(forms.Form):
    start = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    # A preset wins over the dates: the links above the form carry only it (and the filters).
    preset = forms.ChoiceField(label=_("Period"), required=False, choices=[("", ""), *PRESET_LABELS.items()])
    seat = forms.ModelChoiceField(
        label=_("Seat"), required=False, queryset=Seat.objects.order_by("display_name"), empty_label=_("All seats")
    )
    group = forms.ModelChoiceField(
        label=_("Skill group"),
        required=False,
        queryset=SkillGroup.objects.order_by("name"),
        empty_label=_("All skill groups"),
    )

    def clean(self) -> dict[str, object]:
        cleaned = super().clean() or {}
        seat: Seat | None = cleaned.get("seat")
        group: SkillGroup | None = cleaned.get("group")
        scope = {"seat_id": seat.pk if seat else None, "group_id": group.pk if group else None}
        preset = cleaned.get("preset")
        if preset:
            chosen = Period.preset(preset)
            cleaned["period"] = Period(chosen.first_day, chosen.last_day, **scope)
            return cleaned
        today = timezone.localdate()
        end = cleaned.get("end") or today
        start = cleaned.get("start") or end - timedelta(days=DEFAULT_REPORT_DAYS - 1)
        if start > end:
            raise forms.ValidationError(_("The period must start before it ends."))
        if (end - start).days >= MAX_PERIOD_DAYS:
            raise forms.ValidationError(_("A period is at most %(days)d days.") % {"days": MAX_PERIOD_DAYS})
        cleaned["period"] = Period(start, end, **scope)
        return cleaned

    def period(self) -> Period:
        """The chosen period, or the last seven days when none (or an invalid one) was given."""
        if self.is_valid():
            period: Period = self.cleaned_data["period"]
            return period
        return Period.last_days(DEFAULT_REPORT_DAYS)


def report_query(period: Period, **changes: str) -> str:
    """The query string that shows ``period`` with its seat and group filters (for links and CSV)."""
    query = {"start": period.first_day.isoformat(), "end": period.last_day.isoformat()}
    if period.seat_id is not None:
        query["seat"] = str(period.seat_id)
    if period.group_id is not None:
        query["group"] = str(period.group_id)
    query.update(changes)
    return urlencode(query)


def _admin_context(request: HttpRequest, title: str) -> dict[str, object]:
    return {**admin.site.each_context(request), "title": title}


@supervisor_view
def live_page(request: HttpRequest) -> HttpResponse:
    context = {
        **_admin_context(request, str(_("Live view"))),
        "live": live_snapshot(),
        "seat_statuses": Seat.Status.choices,
        "monitor_strings": monitor_strings(),
    }
    return TemplateResponse(request, "admin/sessions_app/live.html", context)


@supervisor_view
def live_panels(request: HttpRequest) -> HttpResponse:
    """The live view's panels alone: what the page's script swaps in when something changed."""
    return TemplateResponse(request, "admin/sessions_app/live_panels.html", {"live": live_snapshot()})


@supervisor_view
def reports_page(request: HttpRequest) -> HttpResponse:
    form = ReportPeriodForm(request.GET or None)
    report = report_build(form.period())
    charts = report_charts(report)
    tables = [(table, charts.get(table.key)) for table in report_tables(report)]
    scope = {name: str(pk) for name, pk in (("seat", report.period.seat_id), ("group", report.period.group_id)) if pk}
    presets = [(label, urlencode({"preset": key, **scope})) for key, label in PRESET_LABELS.items()]
    context = {
        **_admin_context(request, str(_("Reports"))),
        "form": form,
        "presets": presets,
        "query": report_query(report.period),
        "period": report.period,
        "tables": tables,
        "charts": charts,
        "common_definition": common_definition(),
    }
    return TemplateResponse(request, "admin/sessions_app/reports.html", context)


@supervisor_view
def reports_csv(request: HttpRequest, table_key: str) -> HttpResponse:
    form = ReportPeriodForm(request.GET or None)
    period = form.period()
    table: Table | None = next((t for t in report_tables(report_build(period)) if t.key == table_key), None)
    if table is None:
        raise Http404
    filename = f"cs-{table.key}-{period.first_day.isoformat()}-{period.last_day.isoformat()}.csv"
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.write("\ufeff")  # a BOM, so spreadsheet programs read the Chinese text as UTF-8
    csv.writer(response).writerows(table.csv_rows())
    return response


def supervisor_json(view: View) -> View:
    """A live-view control: supervisors only (403 JSON otherwise), POST with CSRF (the middleware),
    a JSON object in, and an ``ApplicationError`` answered as JSON with its code and status."""

    @wraps(view)
    def checked(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        if not user_may_supervise(request.user):
            return JsonResponse({"error": str(_("Supervisors only.")), "code": "forbidden"}, status=403)
        if request.method != "POST":
            return JsonResponse({"error": str(_("Use POST.")), "code": "method_not_allowed"}, status=405)
        try:
            body = json_parse(request.body or b"{}")
        except ValueError:
            body = None
        if not isinstance(body, dict):
            return JsonResponse({"error": str(_("Send a JSON object.")), "code": "invalid_json"}, status=400)
        try:
            return view(request, body, *args, **kwargs)
        except ApplicationError as error:
            return JsonResponse({"error": error.message, "code": error.code}, status=error.status)

    return checked


def _outcome(outcome: ActionOutcome) -> JsonResponse:
    return JsonResponse({"ok": outcome.done, "requeued": outcome.requeued})


@supervisor_json
def live_session_reassign(request: HttpRequest, body: dict[str, object], session_id: int) -> HttpResponse:
    return _outcome(live_reassign(session_id=session_id, data=body))


@supervisor_json
def live_session_end(request: HttpRequest, body: dict[str, object], session_id: int) -> HttpResponse:
    return _outcome(live_end(session_id=session_id, data=body))


def _acting_user(request: HttpRequest) -> AbstractBaseUser:
    user = request.user
    if not isinstance(user, AbstractBaseUser):  # supervisor_json lets only supervisors through
        raise ApplicationError(str(_("Supervisors only.")), code="forbidden", status=403)
    return user


@supervisor_json
def live_session_whisper(request: HttpRequest, body: dict[str, object], session_id: int) -> HttpResponse:
    outcome = live_whisper(session_id=session_id, supervisor=_acting_user(request), data=body)
    return JsonResponse({"ok": outcome.done, "seq": outcome.seq, "console_open": outcome.console_open})


@supervisor_json
def live_session_take_over(request: HttpRequest, body: dict[str, object], session_id: int) -> HttpResponse:
    return _outcome(live_take_over(session_id=session_id, supervisor=_acting_user(request), data=body))


@never_cache
def live_session_monitor(request: HttpRequest, session_id: int) -> HttpResponse:
    """``GET``: a session and its messages after ``?after=<seq>`` (whispers included), for the
    live view's monitor; new ones then come over the live feed. Supervisors only (403 JSON)."""
    if not user_may_supervise(request.user):
        return JsonResponse({"error": str(_("Supervisors only.")), "code": "forbidden"}, status=403)
    if request.method != "GET":
        return JsonResponse({"error": str(_("Use GET.")), "code": "method_not_allowed"}, status=405)
    after = request.GET.get("after", "0")
    if not after.isdigit() or len(after) > 9:
        refusal = {"error": str(_("'after' must be a sequence number.")), "code": "invalid_input"}
        return JsonResponse(refusal, status=400)
    reader_id = request.user.pk or 0  # a supervisor: logged in
    read = session_monitor_read(session_id=session_id, reader_id=reader_id, after_seq=int(after))
    if read is None:
        return JsonResponse({"error": str(_("No such session.")), "code": "not_found"}, status=404)
    return JsonResponse(read)


@supervisor_json
def live_seat_status_set(request: HttpRequest, body: dict[str, object], seat_id: int) -> HttpResponse:
    return _outcome(live_seat_status(seat_id=seat_id, data=body))
