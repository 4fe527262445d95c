"""The reports' tables and their written definitions.

One definition serves both the page and the CSV export, so the two always show the same
columns and rows: the CSV carries raw values (durations in seconds), the page formats them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal

from django.conf import settings
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from sessions_app.reports.figures import Report

ColumnKind = Literal["text", "count", "seconds", "score", "percent"]
Cell = str | int | float | date | None


@dataclass(frozen=True)
class Column:
    label: str
    kind: ColumnKind = "count"

    def csv_label(self) -> str:
        """The header with the unit of the raw CSV values: durations in seconds, shares in percent."""
        if self.kind == "seconds":
            return _("%(label)s (seconds)") % {"label": self.label}
        if self.kind == "percent":
            return _("%(label)s (%%)") % {"label": self.label}
        return str(self.label)


@dataclass(frozen=True)
class Table:
    key: str
    title: str
    definition: str
    columns: list[Column]
    rows: list[list[Cell]]

    def display_rows(self) -> list[list[str]]:
        return [
            [cell_text(cell, column.kind) for cell, column in zip(row, self.columns, strict=True)] for row in self.rows
        ]

    def csv_rows(self) -> list[list[str]]:
        return [[csv_text(column.csv_label()) for column in self.columns]] + [
            [_csv_cell(cell) for cell in row] for row in self.rows
        ]


def _csv_cell(cell: object) -> str:
    if cell is None:
        return ""
    if isinstance(cell, date):
        return cell.isoformat()
    return csv_text(cell) if isinstance(cell, str) else str(cell)


# A text cell that begins like a formula is run by spreadsheet programs (a seat named "=HYPERLINK(…)"):
# such text gets a leading apostrophe, which they show as text. Numbers are written as they are.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_text(text: str) -> str:
    return f"'{text}" if text.startswith(_FORMULA_STARTS) else text


def duration_text(seconds: float | None) -> str:
    """Minutes and seconds (``2:05``), with hours when needed (``1:02:05``); ``–`` when unknown."""
    if seconds is None:
        return "–"
    total = round(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def cell_text(cell: Cell, kind: ColumnKind) -> str:
    if cell is None:
        return "–"
    if isinstance(cell, date):
        return date_format(cell, "SHORT_DATE_FORMAT")
    if kind == "seconds" and isinstance(cell, int | float):
        return duration_text(cell)
    if kind == "percent":
        return f"{cell:.0f}%" if isinstance(cell, int | float) else str(cell)
    if kind == "score" and isinstance(cell, int | float):
        return f"{cell:.2f}"
    return str(cell)


def _percent(part: int, whole: int) -> float | None:
    return None if whole == 0 else round(100 * part / whole, 1)


def common_definition() -> str:
    return _(
        "Every figure counts the sessions opened in the period, in local time (%(zone)s). Times are "
        "minutes:seconds. A session is one conversation, from the customer's first message to its close."
    ) % {"zone": settings.TIME_ZONE}


def wait_label(lower: int, upper: int | None) -> str:
    if upper is None:
        return _("%(lower)s or more") % {"lower": duration_text(lower)}
    return f"{duration_text(lower)}–{duration_text(upper)}"


def report_tables(report: Report) -> list[Table]:
    queue = report.queue
    return [
        Table(
            key="days",
            title=_("Sessions per day"),
            definition=_(
                "Opened: sessions that started that day. Bot only: never asked for a human. Asked for a human: "
                "sent a transfer keyword or the transfer control message within business hours. Served: "
                "assigned to a seat at least once. Abandoned: see “Abandoned in the queue”."
            ),
            columns=[
                Column(_("Day"), "text"),
                Column(_("Opened")),
                Column(_("Bot only")),
                Column(_("Asked for a human")),
                Column(_("Served")),
                Column(_("Abandoned")),
            ],
            rows=[
                [r["day"], r["opened"], r["bot_only"], r["to_human"], r["served"], r["abandoned"]] for r in report.days
            ],
        ),
        Table(
            key="hours",
            title=_("Sessions per hour of the day"),
            definition=_("Sessions opened in each hour of the day (09 = 09:00–09:59), added up over the period."),
            columns=[Column(_("Hour"), "text"), Column(_("Opened")), Column(_("Asked for a human"))],
            rows=[[f"{r['hour']:02d}", r["opened"], r["to_human"]] for r in report.hours],
        ),
        Table(
            key="queue",
            title=_("Queue"),
            definition=_(
                "Wait: from asking for a human to the first assignment to a seat. Served at once: a seat was free "
                "at that moment. The average and the longest wait count served sessions; abandoned sessions "
                "waited from asking until they closed. Still waiting: in the queue now."
            ),
            columns=[
                Column(_("Asked for a human")),
                Column(_("Served at once")),
                Column(_("Served after waiting")),
                Column(_("Abandoned")),
                Column(_("Still waiting")),
                Column(_("Average wait"), "seconds"),
                Column(_("Longest wait"), "seconds"),
                Column(_("Average wait before abandoning"), "seconds"),
            ],
            rows=[
                [
                    queue["requests"],
                    queue["served_at_once"],
                    queue["served"] - queue["served_at_once"],
                    queue["abandoned"],
                    queue["waiting_now"],
                    queue["avg_wait"],
                    queue["max_wait"],
                    queue["avg_abandon_wait"],
                ]
            ],
        ),
        Table(
            key="waits",
            title=_("Queue waits"),
            definition=_(
                "How long customers waited: served ones until their first assignment, abandoned ones until "
                "they left. Each range includes its lower bound."
            ),
            columns=[Column(_("Wait"), "text"), Column(_("Served")), Column(_("Abandoned"))],
            rows=[[wait_label(b["lower"], b["upper"]), b["served"], b["abandoned"]] for b in report.waits],
        ),
        Table(
            key="seats",
            title=_("First response and handling time per seat"),
            definition=_(
                "A segment is one seat's part of a session: from its assignment (or the transfer to it) to the "
                "close (or the transfer away). Bot time and queue time are never part of a segment, and a "
                "transferred session gives each seat its own segment. First response: the seat's first "
                "message in its segment, minus the segment's start. Handling time: the segment's end minus its "
                "start, for segments that have ended. Within 60 s: share of the answered segments."
            ),
            columns=[
                Column(_("Seat"), "text"),
                Column(_("Segments")),
                Column(_("Answered")),
                Column(_("Average first response"), "seconds"),
                Column(_("Longest first response"), "seconds"),
                Column(_("Within 60 s"), "percent"),
                Column(_("Ended")),
                Column(_("Average handling time"), "seconds"),
                Column(_("Transferred away")),
            ],
            rows=[
                [
                    r["seat"],
                    r["segments"],
                    r["answered"],
                    r["avg_first_response"],
                    r["max_first_response"],
                    _percent(r["fast_answered"], r["answered"]),
                    r["completed"],
                    r["avg_handling"],
                    r["transferred_away"],
                ]
                for r in report.seats
            ],
        ),
        Table(
            key="ratings",
            title=_("Ratings per seat"),
            definition=_(
                "Prompts: human sessions that ended, each credited to the seat serving it at the end; this seat "
                "is fixed when the prompt is sent, and a later change does not move it. Ratings: prompts "
                "answered, by the form, a digit in the chat or the client's control message. Average: of the "
                "1 to 5 stars given."
            ),
            columns=[
                Column(_("Seat"), "text"),
                Column(_("Prompts")),
                Column(_("Ratings")),
                Column(_("Answered"), "percent"),
                Column(_("Average"), "score"),
                *(Column(_("%(stars)d stars") % {"stars": n}) for n in range(1, 6)),
            ],
            rows=[
                [r["seat"], r["offered"], r["rated"], _percent(r["rated"], r["offered"]), r["average"], *r["scores"]]
                for r in report.ratings
            ],
        ),
        Table(
            key="abandoned",
            title=_("Abandoned in the queue"),
            definition=_(
                "Sessions that asked for a human and closed before any seat was assigned: the customer left the "
                "queue, the queue timed out, or the customer ended the conversation while queued. Sessions a "
                "supervisor ended while queued are not counted."
            ),
            columns=[Column(_("Reason"), "text"), Column(_("Sessions")), Column(_("Average wait"), "seconds")],
            rows=[[r["label"], r["count"], r["avg_wait"]] for r in report.abandoned],
        ),
    ]
