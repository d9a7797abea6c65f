"""Reporting deadlines (报到时限) per veteran category, from ``reporting.yml``."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import yaml

from bot.core import settings


def reporting_path() -> Path:
    return settings.DATA_FILES / "reporting.yml"


def reporting_deadline_days(category: str | None, path: Path | None = None) -> int | None:
    """``deadline_days`` for a category from reporting.yml (or its default); None if unknown."""
    path = Path(path or reporting_path())
    if not path.exists():
        return None
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    entry = (raw.get("categories") or {}).get(category or "") or raw.get("default") or {}
    value = entry.get("deadline_days")
    return int(value) if value not in (None, "") else None


def days_left(discharge_date: date | None, deadline_days: int | None, today: date) -> int | None:
    """Days until discharge_date + deadline_days (0 = today is the last day, negative = late)."""
    if discharge_date is None or deadline_days is None:
        return None
    return (discharge_date + timedelta(days=deadline_days) - today).days


# Nobody leaves active service at this age (the oldest service limits end well before it), so a
# reporting deadline counted from the discharge day cannot apply to someone this old: the booking
# does not ask them when they were discharged. Not a policy fact; never shown to a user.
NO_RECENT_DISCHARGE_AGE = 65


def deadline_can_apply(born: date | None, today: date) -> bool:
    """Whether a person born on ``born`` could have been discharged recently enough for a
    reporting deadline to matter (True when the birth date is unknown)."""
    if born is None:
        return True
    age = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
    return age < NO_RECENT_DISCHARGE_AGE


def days_left_for(
    category: str | None, discharge_date: date | None, today: date, path: Path | None = None
) -> int | None:
    return days_left(discharge_date, reporting_deadline_days(category, path), today)
