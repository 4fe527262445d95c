"""Charts for the reports page, drawn server-side as inline SVG (no script, no external files).

Two shapes cover every chart: vertical stacked columns (a value per day, hour or bucket) and
horizontal stacked bars (a value per seat). Text is escaped; colours are fixed per series so a
chart reads the same on screen, in print and in a screenshot.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from sessions_app.reports.figures import Report
from sessions_app.reports.tables import cell_text, duration_text, wait_label

BLUE, GREEN, ORANGE, RED, GREY = "#1677ff", "#52c41a", "#fa8c16", "#f5222d", "#bfbfbf"
# One to five stars, from red to green.
STAR_COLOURS = ("#f5222d", "#fa8c16", "#fadb14", "#a0d911", "#52c41a")

WIDTH = 720
# Text follows the page's colour, so the charts read in the admin's light and dark themes.
_FONT = mark_safe('font-size="11" fill="currentColor"')


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float]
    colour: str


def _plain(value: float) -> str:
    return f"{value:g}"


def nice_scale(top: float, *, intervals: int = 4, whole: bool = True) -> tuple[float, float]:
    """An axis maximum at or above ``top`` and a round step (1, 2 or 5 times a power of ten)."""
    if top <= 0:
        return (float(intervals), 1.0)
    raw = top / intervals
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    if whole:
        step = max(step, 1.0)
    return (math.ceil(top / step) * step, step)


def _tag(template: str, *args: object) -> SafeString:
    """``format_html`` with coordinates rounded to 0.1 px (floats), everything else escaped."""
    return format_html(template, *(f"{arg:.1f}" if isinstance(arg, float) else arg for arg in args))


def _text_width(text: str) -> int:
    """Roughly, in pixels at 11px: CJK characters are square, Latin ones about 0.6 of that."""
    return sum(11 if ord(char) >= 0x2E80 else 7 for char in text)


def _legend(series: Sequence[Series], *, y: int) -> list[str]:
    parts: list[str] = []
    x = 8
    for item in series:
        parts.append(_tag('<rect x="{}" y="{}" width="10" height="10" fill="{}"/>', x, y - 9, item.colour))
        parts.append(_tag('<text x="{}" y="{}" {}>{}</text>', x + 14, y, _FONT, item.name))
        x += 26 + _text_width(item.name)
    return parts


def _svg(*, height: int, title: str, body: list[str]) -> SafeString:
    return _tag(
        '<svg class="cs-chart" viewBox="0 0 {} {}" width="100%" role="img" aria-label="{}" '
        'xmlns="http://www.w3.org/2000/svg"><title>{}</title>{}</svg>',
        WIDTH,
        height,
        title,
        title,
        mark_safe("".join(body)),  # noqa: S308 - every part was built with format_html
    )


def column_chart(
    *,
    title: str,
    labels: Sequence[str],
    series: Sequence[Series],
    value_text: Callable[[float], str] = _plain,
    label_every: int = 1,
    whole: bool = True,
) -> SafeString:
    """Stacked columns, one per label, with a y axis of round values."""
    height, top, bottom, left, right = 240, 28, 24, 44, 8
    plot_h, plot_w = height - top - bottom, WIDTH - left - right
    totals = [sum(s.values[i] for s in series) for i in range(len(labels))]
    axis_max, step = nice_scale(max(totals, default=0), whole=whole)
    body = _legend(series, y=14)
    tick = 0.0
    while tick <= axis_max + 1e-9:
        y = top + plot_h - plot_h * tick / axis_max
        body.append(
            _tag(
                '<line x1="{}" x2="{}" y1="{}" y2="{}" stroke="currentColor" stroke-opacity="0.15"/>',
                left,
                WIDTH - right,
                y,
                y,
            )
        )
        body.append(
            _tag(
                '<text x="{}" y="{}" text-anchor="end" {}>{}</text>',
                left - 4,
                y + 4,
                _FONT,
                value_text(tick),
            )
        )
        tick += step
    slot = plot_w / max(len(labels), 1)
    bar_w = max(2.0, slot * 0.7)
    for i, label in enumerate(labels):
        x = left + slot * i + (slot - bar_w) / 2
        base: float = top + plot_h
        for item in series:
            value = item.values[i]
            if value <= 0:
                continue
            h = plot_h * value / axis_max
            base -= h
            body.append(
                _tag(
                    '<rect x="{}" y="{}" width="{}" height="{}" fill="{}"><title>{} · {}: {}</title></rect>',
                    x,
                    base,
                    bar_w,
                    h,
                    item.colour,
                    label,
                    item.name,
                    value_text(value),
                )
            )
        if i % label_every == 0:
            body.append(
                _tag(
                    '<text x="{}" y="{}" text-anchor="middle" {}>{}</text>',
                    x + bar_w / 2,
                    height - 8,
                    _FONT,
                    label,
                )
            )
    return _svg(height=height, title=title, body=body)


def bar_chart(
    *,
    title: str,
    labels: Sequence[str],
    series: Sequence[Series],
    value_text: Callable[[float], str] = _plain,
    total_text: Callable[[int], str] | None = None,
) -> SafeString:
    """Stacked horizontal bars, one per label (a seat), the total written after each bar."""
    row_h, left, right = 26, 130, 110
    top = 28 if len(series) > 1 else 6  # room for the legend, when there is one
    height = top + row_h * max(len(labels), 1) + 8
    plot_w = WIDTH - left - right
    totals = [sum(s.values[i] for s in series) for i in range(len(labels))]
    axis_max = max(totals, default=0) or 1
    body = _legend(series, y=14) if len(series) > 1 else []
    for i, label in enumerate(labels):
        y = top + row_h * i
        body.append(
            _tag(
                '<text x="{}" y="{}" text-anchor="end" {}>{}</text>',
                left - 6,
                y + 15,
                _FONT,
                label,
            )
        )
        x: float = left
        for item in series:
            value = item.values[i]
            if value <= 0:
                continue
            w = plot_w * value / axis_max
            body.append(
                _tag(
                    '<rect x="{}" y="{}" width="{}" height="{}" fill="{}"><title>{} · {}: {}</title></rect>',
                    x,
                    y + 4,
                    w,
                    row_h - 8,
                    item.colour,
                    label,
                    item.name,
                    value_text(value),
                )
            )
            x += w
        text = total_text(i) if total_text else value_text(totals[i])
        body.append(
            _tag(
                '<text x="{}" y="{}" {}>{}</text>',
                x + 6,
                y + 15,
                _FONT,
                text,
            )
        )
    if not labels:
        body.append(_tag('<text x="{}" y="{}" {}>—</text>', left, top + 15, _FONT))
    return _svg(height=height, title=title, body=body)


def report_charts(report: Report) -> dict[str, SafeString]:
    """The page's charts, keyed like its tables."""
    days = report.days
    day_labels = [date_format(row["day"], "m-d") for row in days]
    other = [row["to_human"] - row["served"] - row["abandoned"] for row in days]
    hours = report.hours
    waits = report.waits
    seats = report.seats
    ratings = report.ratings
    return {
        "days": column_chart(
            title=_("Sessions per day"),
            labels=day_labels,
            label_every=max(1, len(days) // 14),
            series=[
                Series(_("Bot only"), [row["bot_only"] for row in days], GREY),
                Series(_("Served"), [row["served"] for row in days], BLUE),
                Series(_("Abandoned"), [row["abandoned"] for row in days], RED),
                Series(_("Other requests"), other, ORANGE),
            ],
        ),
        "hours": column_chart(
            title=_("Sessions per hour of the day"),
            labels=[f"{row['hour']:02d}" for row in hours],
            label_every=2,
            series=[
                Series(_("Bot only"), [row["opened"] - row["to_human"] for row in hours], GREY),
                Series(_("Asked for a human"), [row["to_human"] for row in hours], BLUE),
            ],
        ),
        "waits": column_chart(
            title=_("Queue waits"),
            labels=[wait_label(b["lower"], b["upper"]) for b in waits],
            series=[
                Series(_("Served"), [b["served"] for b in waits], BLUE),
                Series(_("Abandoned"), [b["abandoned"] for b in waits], RED),
            ],
        ),
        "first_response": bar_chart(
            title=_("Average first response"),
            labels=[row["seat"] for row in seats],
            series=[Series(_("Average first response"), [row["avg_first_response"] or 0 for row in seats], BLUE)],
            value_text=duration_text,
        ),
        "handling": bar_chart(
            title=_("Average handling time"),
            labels=[row["seat"] for row in seats],
            series=[Series(_("Average handling time"), [row["avg_handling"] or 0 for row in seats], GREEN)],
            value_text=duration_text,
        ),
        "ratings": bar_chart(
            title=_("Ratings per seat"),
            labels=[row["seat"] for row in ratings],
            series=[
                Series(_("%(stars)d stars") % {"stars": n}, [row["scores"][n - 1] for row in ratings], colour)
                for n, colour in enumerate(STAR_COLOURS, start=1)
            ],
            total_text=lambda i: (
                _("average %(average)s of %(count)d")
                % {"average": cell_text(ratings[i]["average"], "score"), "count": ratings[i]["rated"]}
            ),
        ),
    }
