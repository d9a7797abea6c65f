"""Chinese date/time expressions (bot/core/timeparse.py).

``now`` is Tuesday 2026-12-01 10:00 unless a test says otherwise. Every expression is checked
twice: through jionlp (the normal path) and with jionlp disabled (our fallback rules).
"""

from __future__ import annotations

import sys
from datetime import date, datetime, time

import pytest

from bot.core import timeparse
from bot.core.timeparse import AFTERNOON, EVENING, MORNING, NOON

TUESDAY = datetime(2026, 12, 1, 10, 0)
SUNDAY_29 = datetime(2026, 11, 29, 10, 0)

CASES = [
    # text, expected day, expected time, expected part of day
    ("明天下午三点", date(2026, 12, 2), time(15, 0), AFTERNOON),
    ("下周三上午", date(2026, 12, 9), None, MORNING),
    ("12月5号9点半", date(2026, 12, 5), time(9, 30), MORNING),
    ("后天", date(2026, 12, 3), None, None),
    ("大后天", date(2026, 12, 4), None, None),
    ("周五", date(2026, 12, 4), None, None),
    ("这周五下午", date(2026, 12, 4), None, AFTERNOON),
    ("明早9点", date(2026, 12, 2), time(9, 0), MORNING),
    ("3号上午10点", date(2026, 12, 3), time(10, 0), MORNING),
    ("2026-12-05 09:30", date(2026, 12, 5), time(9, 30), MORNING),
    ("12.5 上午", date(2026, 12, 5), None, MORNING),
    ("明天下午3点半", date(2026, 12, 2), time(15, 30), AFTERNOON),
    ("下午两点", date(2026, 12, 1), time(14, 0), AFTERNOON),
    ("3点", date(2026, 12, 1), time(15, 0), AFTERNOON),  # bare 1–6 o'clock → afternoon
    ("周一", date(2026, 12, 7), None, None),  # Monday passed → next Monday
    ("星期日", date(2026, 12, 6), None, None),
    ("禮拜三下午", date(2026, 12, 2), None, AFTERNOON),  # Traditional + 礼拜
    ("１２月５日", date(2026, 12, 5), None, None),  # full-width digits
    ("下个月3号", date(2027, 1, 3), None, None),
    ("12/5 10:00", date(2026, 12, 5), time(10, 0), MORNING),
    ("明天上午十点一刻", date(2026, 12, 2), time(10, 15), MORNING),
    ("明天9:00", date(2026, 12, 2), time(9, 0), MORNING),
    ("后天下午2点半", date(2026, 12, 3), time(14, 30), AFTERNOON),
    ("明天中午1点", date(2026, 12, 2), time(13, 0), NOON),
    ("十二月二十五号", date(2026, 12, 25), None, None),
    ("明晚7点", date(2026, 12, 2), time(19, 0), EVENING),
    ("昨天", date(2026, 11, 30), None, None),  # explicit past stays past
    ("2026年11月20日", date(2026, 11, 20), None, None),  # explicit year: no rolling
]

ROLLOVER_CASES = [
    ("3号", date(2026, 12, 3)),  # on the 29th: the 3rd of next month
    ("1月5号", date(2027, 1, 5)),  # in November: next January
    ("周五", date(2026, 12, 4)),  # on Sunday: the coming Friday
    ("31号", date(2026, 12, 31)),  # November has no 31st
    ("这周一", date(2026, 11, 30)),
]


@pytest.fixture(params=["jionlp", "rules"])
def parser(request, monkeypatch):
    if request.param == "rules":
        monkeypatch.setattr(timeparse, "_via_jionlp", lambda text, now: None)
    return request.param


@pytest.mark.parametrize("text, day, clock, part", CASES, ids=[c[0] for c in CASES])
def test_expressions(parser, text, day, clock, part):
    result = timeparse.parse(text, TUESDAY)
    assert result is not None, text
    assert (result.day, result.time, result.part_of_day) == (day, clock, part)


@pytest.mark.parametrize("text, day", ROLLOVER_CASES, ids=[c[0] for c in ROLLOVER_CASES])
def test_past_dates_roll_forward(parser, text, day):
    assert timeparse.parse(text, SUNDAY_29).day == day


@pytest.mark.parametrize("text", ["我要预约报到", "你好", "", "   ", "下周"])
def test_no_date_returns_none(parser, text):
    assert timeparse.parse(text, TUESDAY) is None


def test_jionlp_is_the_primary_source():
    assert timeparse.parse("明天下午三点", TUESDAY).source == "jionlp"


def test_fallback_used_when_jionlp_raises(monkeypatch):
    class Broken:
        @staticmethod
        def parse_time(*_args, **_kwargs):
            raise ValueError("boom")

    monkeypatch.setattr(timeparse, "_jionlp", lambda: Broken)
    result = timeparse.parse("12月5号9点半", TUESDAY)
    assert (result.day, result.time, result.source) == (date(2026, 12, 5), time(9, 30), "rules")


def test_at_combines_day_and_time():
    assert timeparse.parse("明天9点", TUESDAY).at == datetime(2026, 12, 2, 9, 0)
    assert timeparse.parse("明天", TUESDAY).at is None


def test_jionlp_banner_is_suppressed(capsys, monkeypatch):
    for name in [m for m in sys.modules if m == "jionlp" or m.startswith("jionlp.")]:
        monkeypatch.delitem(sys.modules, name)
    timeparse._jionlp.cache_clear()
    try:
        assert timeparse.parse("明天", TUESDAY).source == "jionlp"
    finally:
        timeparse._jionlp.cache_clear()
    assert capsys.readouterr().out == ""


OFFSET_CASES = [
    # offsets jionlp answers with a span or nothing: a day, so the booking can say "too far"
    ("三个月以后吧，明年开春", date(2027, 3, 1)),
    ("我想约60天以后那天", date(2027, 1, 30)),
    ("两周以后", date(2026, 12, 15)),
    ("半个月后", date(2026, 12, 16)),
    ("十天后上午", date(2026, 12, 11)),
    ("明年开春", date(2027, 1, 1)),
    ("下个月", date(2027, 1, 1)),
]


@pytest.mark.parametrize("text, day", OFFSET_CASES, ids=[c[0] for c in OFFSET_CASES])
def test_offsets_become_days(parser, text, day):
    result = timeparse.parse(text, TUESDAY)
    assert result is not None and result.day == day


@pytest.mark.parametrize("text", ["过几天吧 看哪天人少", "几天后再说"])
def test_vague_offsets_name_no_day(parser, text):
    assert timeparse.parse(text, TUESDAY) is None
