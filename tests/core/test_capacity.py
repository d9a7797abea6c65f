"""Staff-editable places per slot (appointments.set_capacity / clear_capacity / effective_capacity).

``now`` is Tuesday 2026-12-01 10:00. 李沧 (licang) has 12 slots a day; service_centres.yml gives
every centre ``capacity_per_slot: 3``. Runs on SQLite and PostgreSQL (``engine`` fixture).
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import event, func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.core import appointments as ap
from bot.core import people
from bot.core.appointments import AppointmentError, BookingError
from bot.core.db import make_engine
from bot.core.timeparse import ParsedTime
from tests.core.concurrency import run_concurrently

WED_9 = datetime(2026, 12, 2, 9, 0)
WED_930 = WED_9 + timedelta(minutes=30)
WED_10 = WED_9 + timedelta(minutes=60)


def fake_id(n: int) -> str:
    first17 = f"370202{1950 + n // 1000 % 50}0101{n % 1000:03d}"
    return first17 + people.id_check_digit(first17)


def book(s, now, n, start=WED_9, centre="licang"):
    return ap.book(
        s,
        sender_id=f"tg-{n}",
        category="退役士兵",
        name="王建国",
        mobile=f"138{n:08d}",
        id_number=fake_id(n),
        centre_id=centre,
        start=start,
        now=now,
    )


def slot_row(s, start, centre="licang"):
    return s.execute(
        select(ap.Slot.capacity, ap.Slot.booked)
        .where(ap.Slot.centre_id == centre, ap.Slot.start == start)
        .execution_options(populate_existing=True)
    ).first()


# ------------------------------------------------------------------ override used for new slots


def test_effective_capacity_defaults_to_file_then_follows_override(session, now):
    assert ap.effective_capacity(session, "licang") == 3
    assert ap.effective_capacity(session, ap.get_centre("licang")) == 3
    change = ap.set_capacity(session, "licang", 5, "sup", now)
    assert change == ap.CapacityChange(0, 0, 5)
    assert ap.effective_capacity(session, "licang") == 5
    assert ap.effective_capacity(session, "shinan") == 3  # other centres keep the file value
    row = session.get(ap.CentreCapacity, "licang")
    assert (row.capacity, row.updated_by, row.updated_at) == (5, "sup", now)
    later = now + timedelta(hours=1)
    ap.set_capacity(session, "licang", 4, "sup2", later)  # upsert: still one row
    session.expire_all()
    assert session.execute(select(func.count()).select_from(ap.CentreCapacity)).scalar_one() == 1
    row = session.get(ap.CentreCapacity, "licang")
    assert (row.capacity, row.updated_by, row.updated_at) == (4, "sup2", later)
    assert set(ap.capacity_overrides(session)) == {"licang"}


def test_override_used_for_free_slots_alternatives_and_new_slot_rows(session, now):
    ap.set_capacity(session, "licang", 5, "sup", now)
    free = ap.list_free_slots(session, "licang", WED_9.date(), now)
    assert len(free) == 12 and all((f.capacity, f.free) == (5, 5) for f in free)
    for n in range(5):  # the row is created with the override: five people fit, not three
        book(session, now, n)
    assert slot_row(session, WED_9) == (5, 5)
    with pytest.raises(BookingError) as excinfo:
        book(session, now, 99)
    assert excinfo.value.code == "full" and excinfo.value.alternatives[0] == WED_930
    assert ap.nearest_free(session, "licang", WED_9, now)[:2] == [WED_930, WED_10]


def test_lower_override_makes_new_slots_smaller(session, now):
    ap.set_capacity(session, "licang", 1, "sup", now)
    book(session, now, 1)
    assert slot_row(session, WED_9) == (1, 1)
    free = {f.start: f for f in ap.list_free_slots(session, "licang", WED_9.date(), now)}
    assert WED_9 not in free and free[WED_930].capacity == 1
    assert (
        ap.resolve_request(
            session, "licang", ParsedTime(day=WED_9.date(), time=WED_9.time()), now
        ).reason
        == "full"
    )


def test_override_read_once_per_call_not_per_slot(session, engine, now):
    ap.set_capacity(session, "licang", 4, "sup", now)
    session.flush()
    statements = []

    def record(conn, cursor, statement, *args):
        if "centre_capacity" in statement:
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        assert len(ap.nearest_free(session, "licang", WED_9, now, limit=400)) > 200  # whole horizon
        assert len(statements) == 1
        statements.clear()
        ap.list_free_slots(session, "licang", WED_9.date(), now)
        assert len(statements) == 1
    finally:
        event.remove(engine, "before_cursor_execute", record)


# ------------------------------------------------------------------ changing existing slots


def test_raising_updates_future_rows_only(session, now):
    book(session, now, 1)  # Wed 09:00: 1 of 3
    book(session, now, 2, start=WED_930)  # Wed 09:30: 1 of 3
    book(session, now, 3, centre="shinan")  # another centre
    session.add(
        ap.Slot(centre_id="licang", start=datetime(2026, 12, 1, 9, 0), capacity=3, booked=2)
    )
    session.flush()  # a slot that already started
    change = ap.set_capacity(session, "licang", 7, "sup", now)
    assert (change.updated_slots, change.over_capacity_slots, change.capacity) == (2, 0, 7)
    assert slot_row(session, WED_9) == (7, 1) and slot_row(session, WED_930) == (7, 1)
    assert slot_row(session, datetime(2026, 12, 1, 9, 0)) == (3, 2)  # history untouched
    assert slot_row(session, WED_9, "shinan") == (3, 1)
    # Setting the same value again changes nothing.
    assert ap.set_capacity(session, "licang", 7, "sup", now).updated_slots == 0


def test_lowering_never_drops_below_booked_and_keeps_bookings(session, now):
    taken = [book(session, now, n) for n in range(3)]  # Wed 09:00: 3 of 3
    book(session, now, 10, start=WED_930)  # Wed 09:30: 1 of 3
    ap.cancel(session, book(session, now, 11, start=WED_10), "tg-11", now)  # 10:00: 0 of 3
    change = ap.set_capacity(session, "licang", 1, "sup", now)
    assert (change.updated_slots, change.over_capacity_slots) == (2, 1)
    assert slot_row(session, WED_9) == (3, 3)  # kept at booked: nobody cancelled
    assert slot_row(session, WED_930) == (1, 1)
    assert slot_row(session, WED_10) == (1, 0)
    session.expire_all()
    assert all(session.get(ap.Appointment, a.id).status == ap.BOOKED for a in taken)
    for start in (WED_9, WED_930):
        with pytest.raises(BookingError) as excinfo:
            book(session, now, 50, start=start)
        assert excinfo.value.code == "full"
    # Cancellations in the over-full slot shrink it back towards the new capacity instead of
    # reopening places the centre no longer offers.
    ap.cancel(session, taken[0], "tg-0", now)
    assert slot_row(session, WED_9) == (2, 2)
    ap.cancel(session, taken[1], "tg-1", now)
    assert slot_row(session, WED_9) == (1, 1)
    ap.cancel(session, taken[2], "tg-2", now)
    assert slot_row(session, WED_9) == (1, 0)
    book(session, now, 60)
    assert slot_row(session, WED_9) == (1, 1)


def test_reschedule_out_of_an_over_full_slot_shrinks_it(session, now):
    taken = [book(session, now, n) for n in range(3)]
    ap.set_capacity(session, "licang", 2, "sup", now)
    ap.reschedule(session, taken[0], WED_10, now)
    assert slot_row(session, WED_9) == (2, 2) and slot_row(session, WED_10) == (2, 1)


def test_clear_restores_file_value_never_below_booked(session, now):
    ap.set_capacity(session, "licang", 6, "sup", now)
    for n in range(5):
        book(session, now, n)  # Wed 09:00: 5 of 6
    book(session, now, 10, start=WED_930)  # Wed 09:30: 1 of 6
    change = ap.clear_capacity(session, "licang", "sup", now)
    assert (change.updated_slots, change.over_capacity_slots, change.capacity) == (2, 1, 3)
    assert ap.effective_capacity(session, "licang") == 3
    assert session.get(ap.CentreCapacity, "licang") is None
    assert slot_row(session, WED_9) == (5, 5) and slot_row(session, WED_930) == (3, 1)
    free = {f.start: f for f in ap.list_free_slots(session, "licang", WED_9.date(), now)}
    assert free[WED_10].capacity == 3 and WED_9 not in free
    # Clearing when there is no override is harmless.
    assert ap.clear_capacity(session, "licang", "sup", now).updated_slots == 0


# ------------------------------------------------------------------ validation


@pytest.mark.parametrize("value", [0, -1, 51, 1000, "5", 2.5, None, True])
def test_bad_capacity(session, now, value):
    with pytest.raises(AppointmentError) as excinfo:
        ap.set_capacity(session, "licang", value, "sup", now)
    assert excinfo.value.code == "bad_capacity"
    assert session.get(ap.CentreCapacity, "licang") is None


def test_capacity_bounds_are_accepted(session, now):
    assert ap.set_capacity(session, "licang", ap.MIN_CAPACITY, "sup", now).capacity == 1
    assert ap.set_capacity(session, "licang", ap.MAX_CAPACITY, "sup", now).capacity == 50


def test_unknown_centre(session, now):
    for call in (
        lambda: ap.set_capacity(session, "beijing", 5, "sup", now),
        lambda: ap.clear_capacity(session, "beijing", "sup", now),
        lambda: ap.effective_capacity(session, "beijing"),
    ):
        with pytest.raises(AppointmentError) as excinfo:
            call()
        assert excinfo.value.code == "unknown_centre"


def test_database_rejects_non_positive_override(session, now):
    session.commit()
    with pytest.raises(IntegrityError):
        session.execute(
            text(
                "INSERT INTO centre_capacity (centre_id, capacity, updated_by, updated_at) "
                "VALUES ('licang', 0, 'x', :at)"
            ),
            {"at": now},
        )
        session.flush()
    session.rollback()


# ------------------------------------------------------------------ concurrency


def _threaded_engine(engine_url, threads):
    if engine_url.startswith("sqlite"):
        return make_engine(engine_url)
    return make_engine(engine_url, pool_size=threads + 2, max_overflow=0, pool_timeout=60)


def _booking(n, now, start=WED_9):
    return lambda s: book(s, now, n, start=start) and None


def _totals(engine, start=WED_9):
    with Session(engine, future=True) as s:
        capacity, booked = slot_row(s, start)
        rows = s.execute(
            select(func.count()).select_from(ap.Appointment).where(ap.Appointment.start == start)
        ).scalar_one()
        return capacity, booked, rows


def test_concurrent_bookings_respect_raised_capacity(make_session, engine_url, now):
    """Raise 3 → 7 on a slot that exists already; 30 threads race for it: exactly 7 win."""
    with make_session() as s:
        s.add(ap.Slot(centre_id="licang", start=WED_9, capacity=3, booked=0))
        s.commit()
        assert ap.set_capacity(s, "licang", 7, "sup", now).updated_slots == 1
        s.commit()
    engine = _threaded_engine(engine_url, 30)
    try:
        outcomes = run_concurrently(engine, [_booking(n, now) for n in range(1, 31)])
        assert outcomes == Counter({"ok": 7, "full": 23}), outcomes
        assert _totals(engine) == (7, 7, 7)
    finally:
        engine.dispose()


@pytest.mark.parametrize("new_capacity", [2, 6])
def test_capacity_change_racing_bookings(make_session, engine_url, now, new_capacity):
    """A supervisor changes the capacity while 16 people book a slot nobody has booked yet (its
    row is created in the race). Whatever the order, the counter equals the bookings, nobody is
    refused for any reason but 'full', and the slot ends at max(new capacity, booked)."""
    make_session().close()
    engine = _threaded_engine(engine_url, 17)
    try:
        jobs = [_booking(n, now) for n in range(1, 17)]
        jobs.insert(8, lambda s: ap.set_capacity(s, "licang", new_capacity, "sup", now) and "set")
        outcomes = run_concurrently(engine, jobs)
        assert outcomes["set"] == 1 and outcomes["ok"] + outcomes["full"] == 16, outcomes
        capacity, booked, rows = _totals(engine)
        assert booked == rows == outcomes["ok"]
        assert capacity == max(new_capacity, booked)
        assert min(3, new_capacity) <= booked <= max(3, new_capacity)
    finally:
        engine.dispose()


def test_past_and_other_days_untouched_by_clear(session, now):
    """clear_capacity only moves rows that start after ``now``."""
    session.add(
        ap.Slot(
            centre_id="licang",
            start=datetime.combine(date(2026, 11, 30), WED_9.time()),
            capacity=9,
            booked=9,
        )
    )
    session.flush()
    ap.set_capacity(session, "licang", 4, "sup", now)
    ap.clear_capacity(session, "licang", "sup", now)
    assert slot_row(session, datetime(2026, 11, 30, 9, 0)) == (9, 9)
