"""The reports' period: whole days in local time (``CS_TIME_ZONE``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Literal

from django.utils import timezone

MAX_PERIOD_DAYS = 366
Preset = Literal["today", "7d", "30d", "month"]
PRESETS: tuple[Preset, ...] = ("today", "7d", "30d", "month")


@dataclass(frozen=True)
class Period:
    """Whole local days, ``first_day`` to ``last_day`` inclusive; with ``seat_id``, only the sessions
    that seat served; with ``group_id``, only those whose customer chose that skill group."""

    first_day: date
    last_day: date
    seat_id: int | None = None
    group_id: int | None = None

    def __post_init__(self) -> None:
        if self.last_day < self.first_day:
            raise ValueError("the period ends before it starts")
        if (self.last_day - self.first_day).days >= MAX_PERIOD_DAYS:
            raise ValueError(f"a period is at most {MAX_PERIOD_DAYS} days")

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first_day, time.min, tzinfo=timezone.get_current_timezone())

    @property
    def end(self) -> datetime:
        return datetime.combine(self.last_day + timedelta(days=1), time.min, tzinfo=timezone.get_current_timezone())

    def days(self) -> list[date]:
        return [self.first_day + timedelta(days=n) for n in range((self.last_day - self.first_day).days + 1)]

    @classmethod
    def last_days(cls, count: int, *, today: date | None = None) -> Period:
        today = today or timezone.localdate()
        return cls(today - timedelta(days=count - 1), today)

    @classmethod
    def preset(cls, name: Preset, *, today: date | None = None) -> Period:
        """Today, the last 7 or 30 days (today included), or this month so far."""
        today = today or timezone.localdate()
        if name == "today":
            return cls(today, today)
        if name == "month":
            return cls(today.replace(day=1), today)
        return cls.last_days(7 if name == "7d" else 30, today=today)
