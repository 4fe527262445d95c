"""Small filters for the supervisors' pages: durations and times the live view's script ticks."""

from __future__ import annotations

from datetime import datetime

from django import template

from sessions_app.reports.tables import duration_text

register = template.Library()


@register.filter
def epoch_ms(moment: datetime | None) -> str:
    """Milliseconds since the epoch, for ``data-`` attributes read by static/js/live.js."""
    return "" if moment is None else str(int(moment.timestamp() * 1000))


@register.simple_tag
def elapsed(start: datetime | None, end: datetime | None) -> str:
    if start is None or end is None:
        return "–"
    return duration_text(max(0.0, (end - start).total_seconds()))


@register.filter
def duration(seconds: float | None) -> str:
    return duration_text(seconds)
