"""Chinese date/time expressions → (day, time-or-None, part-of-day-or-None), relative to ``now``.

Why: a veteran books 报到 by typing "明天下午三点", "下周三上午" or "12.5 上午". We ask
``jionlp.parse_time`` first, then correct what it gets wrong for booking purposes, and fall back
to our own rules when it fails:

* text is normalised first (full-width → ASCII, Traditional → Simplified, 明早 → 明天早上,
  "12.5" → "12月5日"), because jionlp reads 明早 as *today* and "12.5" as nothing;
* a date in the past is moved to the next natural occurrence when the user did not pin it down:
  "3号" on the 29th → the 3rd of next month, "周一" on a Tuesday → next Monday, "1月5号" in
  November → next January. Explicit years and relative words (昨天, 上周五) are left alone so the
  booking service can answer "that is in the past";
* a bare hour from 1 to 6 ("3点") means the afternoon: nobody books 报到 at 3 a.m.;
* offsets jionlp answers with a span or nothing ("三个月以后", "60天以后", "两周后", "明年",
  "下个月") become a day, so the booking service can say "that is beyond the booking window"
  instead of "I did not understand".
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import io
import logging
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from bot.core import numerals

logger = logging.getLogger(__name__)

MORNING, NOON, AFTERNOON, EVENING = "morning", "noon", "afternoon", "evening"

__all__ = ["ParsedTime", "parse", "normalise", "MORNING", "NOON", "AFTERNOON", "EVENING"]


@dataclass(frozen=True)
class ParsedTime:
    """What the user asked for. ``time`` is None when only a day (and maybe a part) was given."""

    day: _dt.date
    time: _dt.time | None = None
    part_of_day: str | None = None  # MORNING | NOON | AFTERNOON | EVENING
    source: str = "rules"  # 'jionlp' or 'rules' (for diagnostics)

    @property
    def at(self) -> _dt.datetime | None:
        """The exact moment when a time was given."""
        return _dt.datetime.combine(self.day, self.time) if self.time else None


# --------------------------------------------------------------------------- normalisation

_CN_NUM = r"[零〇一二两三四五六七八九十]{1,3}"
_NUM = rf"(?:\d{{1,2}}|{_CN_NUM})"


def _cn_int(text: str) -> int:
    """'3', '十', '十二', '二十一', '三十' → int (numbers up to 99 are enough for dates/times)."""
    value = numerals.parse_int(text)
    if value is None:
        raise ValueError(f"not a number: {text!r}")
    return value


def normalise(text: str) -> str:
    """Full-width → ASCII, Traditional → Simplified, colloquial forms jionlp misreads rewritten."""
    from bot.core.script import to_simplified

    text = to_simplified(unicodedata.normalize("NFKC", text or "")).strip()
    for short, long in (
        ("明早", "明天早上"),
        ("明晚", "明天晚上"),
        ("今早", "今天早上"),
        ("今晚", "今天晚上"),
        ("明儿", "明天"),
        ("礼拜", "星期"),
        ("星期天", "星期日"),
        ("周天", "周日"),
    ):
        text = text.replace(short, long)
    # "12.5" / "12/5" (month.day, no year) → "12月5日"
    text = re.sub(
        r"(?<![\d./\-])(1[0-2]|0?[1-9])[./](3[01]|[12]\d|0?[1-9])(?![\d./\-:])",
        lambda m: f"{int(m.group(1))}月{int(m.group(2))}日",
        text,
    )
    return text


# --------------------------------------------------------------------------- shared pieces

_POD_WORDS = (
    (("凌晨", "早上", "早晨", "清晨", "上午"), MORNING),
    (("中午", "午间"), NOON),
    (("下午", "午后"), AFTERNOON),
    (("傍晚", "晚上", "夜里", "晚间", "夜间"), EVENING),
)


def _part_of_day(text: str) -> str | None:
    for words, part in _POD_WORDS:
        if any(word in text for word in words):
            return part
    return None


def _part_of_time(value: _dt.time) -> str:
    if value.hour < 12:
        return MORNING
    if value.hour < 13:
        return NOON
    return AFTERNOON if value.hour < 18 else EVENING


def _adjust_hour(hour: int, part: str | None) -> int:
    """12-hour speech → 24-hour clock; a bare 1–6 o'clock is read as afternoon (office hours)."""
    if part in (AFTERNOON, EVENING) and hour < 12:
        return hour + 12
    if part == NOON and 1 <= hour <= 2:
        return hour + 12
    if part is None and 1 <= hour <= 6:
        return hour + 12
    return hour


_CLOCK_COLON = re.compile(r"(?<!\d)([01]?\d|2[0-3])[:：]([0-5]\d)(?!\d)")
_CLOCK_CN = re.compile(rf"({_NUM})\s*[点时](?:\s*(半|一刻|三刻|(?:零)?{_NUM})\s*分?)?")


def _clock(text: str, part: str | None) -> _dt.time | None:
    """An explicit clock time in the text (9点半, 十点一刻, 09:30), in 24-hour form."""
    match = _CLOCK_COLON.search(text)
    if match:
        hour, minute = int(match.group(1)), int(match.group(2))
    else:
        match = _CLOCK_CN.search(text)
        if not match:
            return None
        hour = _cn_int(match.group(1))
        tail = match.group(2) or ""
        minute = {"半": 30, "一刻": 15, "三刻": 45}.get(tail)
        if minute is None:
            minute = _cn_int(tail.lstrip("零")) if tail else 0
    hour = _adjust_hour(hour, part)
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        return None
    return _dt.time(hour, minute)


# Which kind of date expression the user wrote decides whether a past date may roll forward.
_EXPLICIT_YEAR = re.compile(r"\d{4}\s*[年\-/.]")
_RELATIVE_DAY = {
    "大后天": 3,
    "后天": 2,
    "明天": 1,
    "明日": 1,
    "今天": 0,
    "今日": 0,
    "昨天": -1,
    "前天": -2,
}
_WEEKDAY = re.compile(r"(下下|下|上|这|本)?个?(?:周|星期)([一二三四五六日1-7])")
_MONTH_DAY = re.compile(rf"({_NUM})\s*月\s*({_NUM})\s*[日号]?")
_NEXT_MONTH_DAY = re.compile(rf"下个?月\s*({_NUM})\s*[日号]")
_DAY_ONLY = re.compile(rf"(?<![月\d])({_NUM})\s*[日号]")
_WEEKDAY_INDEX = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6}


def _date_kind(text: str) -> str:
    """How the date was expressed: 'explicit' (has a year), 'relative' (明天, 下周三, 下个月3号),
    'weekday' (周五, 这周五), 'month_day' (12月5日), 'day' (3号) or 'none'."""
    if _EXPLICIT_YEAR.search(text):
        return "explicit"
    if any(word in text for word in _RELATIVE_DAY) or _NEXT_MONTH_DAY.search(text):
        return "relative"
    match = _WEEKDAY.search(text)
    if match:
        return "weekday" if match.group(1) in (None, "这", "本") else "relative"
    if _MONTH_DAY.search(text):
        return "month_day"
    if _DAY_ONLY.search(text):
        return "day"
    return "none"


def _add_months(day: _dt.date, months: int, target_day: int) -> _dt.date | None:
    """The ``target_day`` of the month ``months`` after ``day``'s, skipping months too short."""
    year, month = day.year, day.month
    for _ in range(12):
        month += months
        year, month = year + (month - 1) // 12, (month - 1) % 12 + 1
        try:
            return _dt.date(year, month, target_day)
        except ValueError:
            months = 1
    return None


def _roll_forward(day: _dt.date, kind: str, today: _dt.date) -> _dt.date:
    """Move an unanchored past date to its next occurrence (see module docstring)."""
    if day >= today:
        return day
    if kind == "weekday":
        return day + _dt.timedelta(days=7 * ((today - day).days // 7 + 1))
    if kind == "month_day":
        try:
            return day.replace(year=today.year + (1 if day.replace(year=today.year) < today else 0))
        except ValueError:  # 2月29日
            return day
    if kind == "day":
        return _add_months(today, 1, day.day) or day
    if kind == "none":  # a named day jionlp knows (元旦, 国庆节) → its next occurrence
        try:
            return day.replace(year=day.year + 1) if day.year == today.year else day
        except ValueError:
            return day
    return day


# --------------------------------------------------------------------------- offsets

_OFFSET = re.compile(rf"({_NUM}|半|几)\s*(个)?\s*(天|日|周|星期|月|年)\s*(?:以后|之后|后|过后)")
_OFFSET_UNIT_DAYS = {"天": 1, "日": 1, "周": 7, "星期": 7}
_NEXT_PERIOD = (
    ("后年", "year", 2),
    ("明年", "year", 1),
    ("下个月", "month", 1),
    ("下月", "month", 1),
)


def _offset_day(text: str, today: _dt.date) -> _dt.date | None:
    """'三个月以后' → today + 3 months, '60天以后' → today + 60 days, '明年' → next 1 January,
    '下个月' → the 1st of next month; None when the text names no such offset. '几天后' is vague
    (None: the caller offers the nearest free days instead)."""
    match = _OFFSET.search(text)
    if match:
        amount, unit = match.group(1), match.group(3)
        if amount == "几":
            return None
        count = 0.5 if amount == "半" else _cn_int(amount)
        if unit in _OFFSET_UNIT_DAYS:
            return today + _dt.timedelta(days=round(count * _OFFSET_UNIT_DAYS[unit]))
        if unit == "月" and (match.group(2) or amount == "半" or count > 1):
            if amount == "半":
                return today + _dt.timedelta(days=15)
            return _add_months(today, int(count), today.day) or today + _dt.timedelta(
                days=30 * int(count)
            )
        if unit == "年":
            return today + _dt.timedelta(days=round(365 * count))
    if any(p.search(text) for p in (_MONTH_DAY, _NEXT_MONTH_DAY, _DAY_ONLY, _WEEKDAY)):
        return None  # "下个月3号", "明年1月5号": a day is named, jionlp / the rules read it
    for word, unit, count in _NEXT_PERIOD:
        if word in text:
            if unit == "year":
                return _dt.date(today.year + count, 1, 1)
            return _add_months(today.replace(day=1), count, 1)
    return None


# --------------------------------------------------------------------------- jionlp


@lru_cache(maxsize=1)
def _jionlp():
    """Import jionlp once, swallowing the banner it prints to stdout on import."""
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            import jionlp
    except Exception:  # pragma: no cover - jionlp is a pinned dependency
        logger.warning("jionlp unavailable; using rule-based time parsing only")
        return None
    return jionlp


def _via_jionlp(text: str, now: _dt.datetime) -> tuple[_dt.date, _dt.time | None] | None:
    """(day, time) from jionlp, or None when it fails or answers with a span longer than a day."""
    jio = _jionlp()
    if jio is None:
        return None
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            result = jio.parse_time(text, time_base=now)
    except Exception as exc:  # jionlp raises plain ValueError/TypeError on text it cannot read
        logger.debug("jionlp could not parse %r: %s", text, exc)
        return None
    if not result or result.get("type") != "time_point":
        return None
    try:
        start, end = (_dt.datetime.strptime(v, "%Y-%m-%d %H:%M:%S") for v in result["time"][:2])
    except (KeyError, TypeError, ValueError):
        return None
    span = end - start
    if span > _dt.timedelta(days=1):
        return None
    has_time = result.get("definition") == "accurate" and span < _dt.timedelta(hours=1, seconds=1)
    return start.date(), (start.time().replace(second=0) if has_time else None)


# --------------------------------------------------------------------------- rules


def _rule_day(text: str, today: _dt.date) -> _dt.date | None:
    """Our own date reading for when jionlp fails."""
    match = _iso_day(text)
    if match is not None:
        return match
    for word, offset in sorted(_RELATIVE_DAY.items(), key=lambda kv: -len(kv[0])):
        if word in text:
            return today + _dt.timedelta(days=offset)
    match = _NEXT_MONTH_DAY.search(text)
    if match:
        return _add_months(today, 1, _cn_int(match.group(1)))
    match = _WEEKDAY.search(text)
    if match:
        prefix, name = match.group(1), match.group(2)
        index = int(name) - 1 if name.isdigit() else _WEEKDAY_INDEX[name]
        monday = today - _dt.timedelta(days=today.weekday())
        weeks = {"下下": 2, "下": 1, "上": -1}.get(prefix or "", 0)
        return monday + _dt.timedelta(days=7 * weeks + index)
    match = _MONTH_DAY.search(text)
    if match:
        try:
            return _dt.date(today.year, _cn_int(match.group(1)), _cn_int(match.group(2)))
        except ValueError:
            return None
    match = _DAY_ONLY.search(text)
    if match:
        try:
            return today.replace(day=_cn_int(match.group(1)))
        except ValueError:
            return _add_months(today, 1, _cn_int(match.group(1)))
    return None


_ISO_DATE = re.compile(r"(\d{4})\s*[年\-/.]\s*(\d{1,2})\s*[月\-/.]\s*(\d{1,2})\s*[日号]?")


def _iso_day(text: str) -> _dt.date | None:
    match = _ISO_DATE.search(text)
    if not match:
        return None
    try:
        return _dt.date(*(int(g) for g in match.groups()))
    except ValueError:
        return None


def _strip_dates(text: str) -> str:
    """Remove date parts so that '12月5号9点' does not read '5号' as an hour."""
    for pattern in (_ISO_DATE, _MONTH_DAY, _NEXT_MONTH_DAY, _DAY_ONLY):
        text = pattern.sub(" ", text)
    return text


# --------------------------------------------------------------------------- entry point


def parse(text: str, now: _dt.datetime) -> ParsedTime | None:
    """Read a date/time expression relative to ``now`` (naive local time).

    Returns None when the text names no day and no time. A time without a day means today.
    """
    clean = normalise(text)
    if not clean:
        return None
    today = now.date()
    part = _part_of_day(clean)
    kind = _date_kind(clean)
    clock = _clock(_strip_dates(clean), part)

    offset = _offset_day(clean, today) if kind in ("none", "relative") else None
    found = None if offset is not None else _via_jionlp(clean, now)
    if offset is not None:
        source, day, time_ = "rules", offset, clock
    elif found is not None:
        source, (day, time_) = "jionlp", found
        if clock is not None:
            time_ = clock  # our reading knows the office-hours convention (jionlp: 3点 = 03:00)
        elif time_ is not None:
            time_ = time_.replace(hour=_adjust_hour(time_.hour, part))
    else:
        source, day, time_ = "rules", _rule_day(clean, today), clock
        if day is None and (clock or part):
            day = today
        if day is None:
            return None
    day = _roll_forward(day, kind, today)
    if time_ is not None and part is None:
        part = _part_of_time(time_)
    return ParsedTime(day=day, time=time_, part_of_day=part, source=source)
