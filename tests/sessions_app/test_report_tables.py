"""The report tables' CSV rows (sessions_app/reports/tables.py)."""

from __future__ import annotations

from datetime import date

from sessions_app.reports.tables import Column, Table


def test_text_that_a_spreadsheet_would_run_as_a_formula_is_written_as_text() -> None:
    table = Table(
        key="seats",
        title="t",
        definition="d",
        columns=[Column("Seat", "text"), Column("Answered"), Column("Day", "text")],
        rows=[
            ['=HYPERLINK("http://evil.example","x")', -3, date(2026, 12, 2)],
            ["+1 坐席", 2.5, None],
            ["@SUM(A1)", 0, None],
            ["-x", 1, None],
            ["Alice", 7, None],
        ],
    )
    rows = table.csv_rows()
    assert rows[0] == ["Seat", "Answered", "Day"]
    assert rows[1] == ['\'=HYPERLINK("http://evil.example","x")', "-3", "2026-12-02"], "numbers stay numbers"
    assert [row[0] for row in rows[2:]] == ["'+1 坐席", "'@SUM(A1)", "'-x", "Alice"]
