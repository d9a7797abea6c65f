"""Working days, 调休 and centre closures (bot/core/workdays.py)."""

from __future__ import annotations

import os
from datetime import date, datetime

import pytest
import yaml

from bot.core import workdays


@pytest.fixture
def closures_file(tmp_path):
    """A closures.yml written by the test (the shipped one is checked separately)."""
    path = tmp_path / "closures.yml"

    def write(data: dict):
        path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
        # Make sure the mtime-based cache notices consecutive writes within one second.
        stamp = path.stat().st_mtime + write.calls
        os.utime(path, (stamp, stamp))
        write.calls += 1
        return path

    write.calls = 1
    return write


@pytest.mark.parametrize(
    "day, expected",
    [
        (date(2026, 12, 1), True),  # ordinary Tuesday
        (date(2026, 12, 5), False),  # ordinary Saturday
        (date(2026, 10, 1), False),  # 国庆节
        (date(2026, 10, 7), False),  # 国庆 holiday on a Wednesday
        (date(2026, 2, 17), False),  # 春节
        (date(2026, 10, 10), True),  # 调休: Saturday that IS a working day
        (date(2026, 2, 14), True),  # 调休 Saturday before 春节
        (date(2026, 1, 4), True),  # 调休 Sunday after 元旦
        (date(2026, 9, 20), True),  # 调休 Sunday
    ],
)
def test_national_calendar_2026(day, expected):
    assert workdays.is_working_day(day) is expected


def test_years_without_chinesecalendar_data_use_weekdays(closures_file):
    path = closures_file({"holidays": [], "workdays": []})
    assert workdays.is_working_day(date(2027, 1, 4), path) is True  # Monday
    assert workdays.is_working_day(date(2027, 1, 9), path) is False  # Saturday


def test_file_holidays_and_workdays_override(closures_file):
    path = closures_file(
        {"holidays": ["2027-01-01", date(2027, 2, 10)], "workdays": ["2027-02-06"]}
    )
    assert workdays.is_working_day(date(2027, 1, 1), path) is False  # Friday made a holiday
    assert workdays.is_working_day(date(2027, 2, 10), path) is False
    assert workdays.is_working_day(date(2027, 2, 6), path) is True  # Saturday make-up day


def test_file_overrides_even_covered_years(closures_file):
    path = closures_file({"holidays": ["2026-12-01"]})
    assert workdays.is_working_day(date(2026, 12, 1), path) is False


def test_file_is_reloaded_when_it_changes(closures_file):
    path = closures_file({"holidays": []})
    assert workdays.is_working_day(date(2027, 3, 1), path) is True
    closures_file({"holidays": ["2027-03-01"]})
    assert workdays.is_working_day(date(2027, 3, 1), path) is False


def test_missing_file_means_no_overrides(tmp_path):
    assert workdays.is_working_day(date(2026, 12, 1), tmp_path / "absent.yml") is True


def test_shipped_closures_file_is_valid_and_has_no_invented_2027_dates():
    overrides = workdays.load_overrides()
    assert not [d for d in overrides.holidays | overrides.workdays if d.year >= 2027]
    text = workdays.closures_path().read_text(encoding="utf-8")
    assert "holidays:" in text and "workdays:" in text and "closures:" in text


def test_day_status_reasons(session):
    assert workdays.day_status(session, "licang", date(2026, 12, 1)) == workdays.DayStatus(
        date(2026, 12, 1), True
    )
    assert workdays.day_status(session, "licang", date(2026, 10, 1)).reason_code == "holiday"
    assert workdays.day_status(session, "licang", date(2026, 12, 6)).reason_code == "weekend"


def test_file_closure_for_one_centre_and_for_all(session, closures_file):
    path = closures_file(
        {
            "closures": [
                {"centre": "licang", "date": "2026-12-15", "reason": "内部培训"},
                {"centre": "all", "date": "2026-12-16", "reason": "系统维护"},
            ]
        }
    )
    status = workdays.day_status(session, "licang", date(2026, 12, 15), path)
    assert (status.open, status.reason_code, status.reason) == (False, "closure", "内部培训")
    assert workdays.is_centre_open(session, "shinan", date(2026, 12, 15), path) is True
    assert workdays.is_centre_open(session, "shinan", date(2026, 12, 16), path) is False
    assert workdays.is_centre_open(session, "licang", date(2026, 12, 16), path) is False


def test_db_closures_add_update_remove(session):
    when = datetime(2026, 12, 1, 9, 0)
    workdays.add_closure(session, "licang", date(2026, 12, 17), "停电", "staff-a", when)
    status = workdays.day_status(session, "licang", date(2026, 12, 17))
    assert (status.open, status.reason) == (False, "停电")
    assert workdays.is_centre_open(session, "jimo", date(2026, 12, 17)) is True

    row = workdays.add_closure(session, "licang", date(2026, 12, 17), "停水", "staff-b", when)
    assert row.reason == "停水" and row.created_by == "staff-b"
    assert len(workdays.list_closures(session, "licang")) == 1

    assert workdays.remove_closure(session, "licang", date(2026, 12, 17)) is True
    assert workdays.is_centre_open(session, "licang", date(2026, 12, 17)) is True
    assert workdays.remove_closure(session, "licang", date(2026, 12, 17)) is False


def test_db_closure_for_all_centres(session):
    workdays.add_closure(
        session,
        workdays.ALL_CENTRES,
        date(2026, 12, 18),
        "全市培训",
        "admin",
        datetime(2026, 12, 1),
    )
    assert workdays.is_centre_open(session, "pingdu", date(2026, 12, 18)) is False


def test_list_closures_merges_sources(session, closures_file):
    path = closures_file(
        {"closures": [{"centre": "licang", "date": "2026-12-15", "reason": "培训"}]}
    )
    workdays.add_closure(session, "licang", date(2026, 12, 14), "停电", "a", datetime(2026, 12, 1))
    workdays.add_closure(session, "shinan", date(2026, 12, 14), "停电", "a", datetime(2026, 12, 1))
    found = workdays.list_closures(session, "licang", path=path)
    assert [(c.date, c.source) for c in found] == [
        (date(2026, 12, 14), "db"),
        (date(2026, 12, 15), "file"),
    ]
    assert len(workdays.list_closures(session, path=path)) == 3


def test_closed_days_combines_everything(session, closures_file):
    path = closures_file({"closures": [{"centre": "licang", "date": "2026-12-15", "reason": "x"}]})
    workdays.add_closure(session, "licang", date(2026, 12, 9), "y", "a", datetime(2026, 12, 1))
    closed = workdays.closed_days(session, "licang", date(2026, 12, 7), date(2026, 12, 15), path)
    assert closed == {date(2026, 12, 9), date(2026, 12, 12), date(2026, 12, 13), date(2026, 12, 15)}


def test_holidays_the_law_fixes_are_known_before_the_year_is_published(closures_file):
    """《全国年节及纪念日放假办法》fixes 元旦 1/1, 劳动节 5/1–2 and 国庆节 10/1–3."""
    path = closures_file({"holidays": [], "workdays": []})
    assert workdays.is_working_day(date(2027, 1, 1), path) is False  # a Friday
    assert workdays.is_working_day(date(2027, 10, 1), path) is False
    assert workdays.is_working_day(date(2027, 1, 4), path) is True
