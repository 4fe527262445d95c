"""Business days as supervisors write them ("1,2,3,4,5", ISO weekdays): one check for every form
that takes them (the service settings, a skill group's own hours)."""

from __future__ import annotations

from django.utils.translation import gettext as _

ISO_WEEKDAYS = frozenset({"1", "2", "3", "4", "5", "6", "7"})


def business_days_error(days: str) -> str | None:
    """Why ``days`` is not a list of ISO weekdays separated by commas, or None when it is."""
    parts = [part.strip() for part in days.split(",") if part.strip()]
    if not parts or any(part not in ISO_WEEKDAYS for part in parts):
        return _("Give ISO weekdays 1 to 7, separated by commas.")
    return None
