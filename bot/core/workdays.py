"""Which days a 退役军人服务中心 receives visitors.

Why: 报到 appointments may only land on working days. The national calendar (法定节假日 and
调休 make-up days) comes from ``chinesecalendar`` (covers 2004–2026). Staff extend or correct it
without code in ``data/closures.yml`` (holidays, make-up workdays for 2027+, one-off closures),
and the agent console adds closures to the ``centre_closures`` table. Both sources are respected.

Precedence for the national calendar: closures.yml ``holidays`` > ``workdays`` > chinesecalendar
> weekday rule (Mon–Fri) for years chinesecalendar does not cover.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import yaml
from sqlalchemy import Column, Date, DateTime, Integer, String, UniqueConstraint, delete, select
from sqlalchemy.orm import Session

from bot.core import settings
from bot.core.db import Base

ALL_CENTRES = "all"
# Holidays whose calendar date the law itself fixes (《全国年节及纪念日放假办法》第二条, 2024
# revision: 元旦 1月1日, 劳动节 5月1日–2日, 国庆节 10月1日–3日), so they are known before the State
# Council publishes a year's arrangement. Lunar holidays and 调休 days wait for closures.yml.
FIXED_HOLIDAYS = frozenset({(1, 1), (5, 1), (5, 2), (10, 1), (10, 2), (10, 3)})

__all__ = [
    "ALL_CENTRES",
    "CentreClosure",
    "Closure",
    "DayStatus",
    "CalendarOverrides",
    "closures_path",
    "load_overrides",
    "is_working_day",
    "day_status",
    "is_centre_open",
    "closed_days",
    "add_closure",
    "remove_closure",
    "list_closures",
]


class CentreClosure(Base):
    """A closure added by staff in the console (``centre_id`` may be ``'all'``)."""

    __tablename__ = "centre_closures"
    __table_args__ = (UniqueConstraint("centre_id", "date", name="uq_centre_closures_centre_date"),)

    id = Column(Integer, primary_key=True)
    centre_id = Column(String(32), nullable=False)
    date = Column(Date, nullable=False, index=True)
    reason = Column(String(200), nullable=False, default="")
    created_by = Column(String(64), nullable=False, default="")
    created_at = Column(DateTime, nullable=False)


@dataclass(frozen=True)
class Closure:
    """One closure from either source (``source`` is 'file' or 'db')."""

    centre_id: str
    date: date
    reason: str
    source: str
    created_by: str = ""


@dataclass(frozen=True)
class CalendarOverrides:
    holidays: frozenset[date] = frozenset()
    workdays: frozenset[date] = frozenset()
    closures: tuple[Closure, ...] = ()


@dataclass(frozen=True)
class DayStatus:
    """Whether a centre is open on a day and, if not, why.

    ``reason_code``: None (open), 'holiday' (法定节假日 or listed holiday), 'weekend', 'closure'
    (a one-off closure; ``reason`` holds the staff's text).
    """

    day: date
    open: bool
    reason_code: str | None = None
    reason: str | None = None


def closures_path() -> Path:
    return settings.DATA_FILES / "closures.yml"


_cache: dict[Path, tuple[float, CalendarOverrides]] = {}


def _as_date(value) -> date:
    """YAML gives ``date`` for unquoted YYYY-MM-DD and ``str`` for quoted ones; accept both."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value).strip())


def _parse_overrides(raw: dict) -> CalendarOverrides:
    raw = raw or {}
    closures = tuple(
        Closure(
            centre_id=str(item.get("centre") or ALL_CENTRES),
            date=_as_date(item["date"]),
            reason=str(item.get("reason") or ""),
            source="file",
        )
        for item in (raw.get("closures") or [])
    )
    return CalendarOverrides(
        holidays=frozenset(_as_date(d) for d in (raw.get("holidays") or [])),
        workdays=frozenset(_as_date(d) for d in (raw.get("workdays") or [])),
        closures=closures,
    )


def load_overrides(path: Path | None = None) -> CalendarOverrides:
    """closures.yml, re-read whenever its modification time changes (staff edit it live)."""
    path = Path(path or closures_path())
    try:
        mtime = path.stat().st_mtime
    except FileNotFoundError:
        return CalendarOverrides()
    cached = _cache.get(path)
    if cached and cached[0] == mtime:
        return cached[1]
    overrides = _parse_overrides(yaml.safe_load(path.read_text(encoding="utf-8")))
    _cache[path] = (mtime, overrides)
    return overrides


def _national_status(day: date, overrides: CalendarOverrides) -> str | None:
    """None when it is a working day nationally, else 'holiday' or 'weekend'."""
    if day in overrides.holidays:
        return "holiday"
    if day in overrides.workdays:
        return None
    import chinese_calendar

    try:
        if chinese_calendar.is_workday(day):
            return None
        _is_holiday, name = chinese_calendar.get_holiday_detail(day)
        return "holiday" if name else "weekend"
    except NotImplementedError:  # a year chinesecalendar has no data for
        if (day.month, day.day) in FIXED_HOLIDAYS:
            return "holiday"
        return None if day.weekday() < 5 else "weekend"


def is_working_day(day: date, path: Path | None = None) -> bool:
    """National working day (法定节假日 off, 调休 make-up Saturdays/Sundays on)."""
    return _national_status(day, load_overrides(path)) is None


def _db_closures(s: Session, centre_id: str | None, start: date, end: date) -> list[Closure]:
    query = select(CentreClosure).where(CentreClosure.date >= start, CentreClosure.date <= end)
    if centre_id is not None:
        query = query.where(CentreClosure.centre_id.in_([centre_id, ALL_CENTRES]))
    return [
        Closure(row.centre_id, row.date, row.reason, "db", row.created_by)
        for row in s.execute(query.order_by(CentreClosure.date)).scalars()
    ]


def list_closures(
    s: Session,
    centre_id: str | None = None,
    start: date | None = None,
    end: date | None = None,
    path: Path | None = None,
) -> list[Closure]:
    """Closures from the file and the database, for one centre (incl. 'all') or every centre."""
    start = start or date.min
    end = end or date.max
    from_file = [
        c
        for c in load_overrides(path).closures
        if start <= c.date <= end and (centre_id is None or c.centre_id in (centre_id, ALL_CENTRES))
    ]
    return sorted(
        from_file + _db_closures(s, centre_id, start, end), key=lambda c: (c.date, c.source)
    )


def day_status(s: Session, centre_id: str, day: date, path: Path | None = None) -> DayStatus:
    """Open or closed (with a reason) for one centre on one day."""
    national = _national_status(day, load_overrides(path))
    if national:
        return DayStatus(day, False, national)
    closures = list_closures(s, centre_id, day, day, path)
    if closures:
        return DayStatus(day, False, "closure", closures[0].reason)
    return DayStatus(day, True)


def is_centre_open(s: Session, centre_id: str, day: date, path: Path | None = None) -> bool:
    return day_status(s, centre_id, day, path).open


def closed_days(
    s: Session, centre_id: str, start: date, end: date, path: Path | None = None
) -> set[date]:
    """Every closed day in [start, end] with a single query (used to search free slots)."""
    overrides = load_overrides(path)
    closed = {c.date for c in list_closures(s, centre_id, start, end, path)}
    day = start
    while day <= end:
        if _national_status(day, overrides):
            closed.add(day)
        day += timedelta(days=1)
    return closed


def add_closure(
    s: Session, centre_id: str, day: date, reason: str, created_by: str, now: datetime
) -> CentreClosure:
    """Close a centre (or 'all') on ``day``; re-adding the same day updates the reason."""
    existing = s.execute(
        select(CentreClosure).where(CentreClosure.centre_id == centre_id, CentreClosure.date == day)
    ).scalar_one_or_none()
    if existing:
        existing.reason, existing.created_by = reason, created_by
        return existing
    row = CentreClosure(
        centre_id=centre_id, date=day, reason=reason, created_by=created_by, created_at=now
    )
    s.add(row)
    s.flush()
    return row


def remove_closure(s: Session, centre_id: str, day: date) -> bool:
    """Reopen a day closed in the console (file closures are removed by editing the file)."""
    result = s.execute(
        delete(CentreClosure).where(CentreClosure.centre_id == centre_id, CentreClosure.date == day)
    )
    return bool(result.rowcount)
