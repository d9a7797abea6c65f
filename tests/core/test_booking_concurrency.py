"""Capacity holds under concurrency: the database, not Python, decides who gets the last place.

120 threads (each with its own Session and transaction, distinct people) book the same slot of
capacity 5 at once, on a SQLite file and on PostgreSQL. Exactly 5 must succeed, every other
thread must get a clean BookingError('full'), and the slot counter must equal the rows.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.core import appointments as ap
from bot.core import people
from bot.core.db import make_engine
from tests.core.concurrency import run_concurrently

CAPACITY = 5
THREADS = 120
START = datetime(2026, 12, 2, 9, 0)


def fake_id(n: int) -> str:
    first17 = f"370202{1950 + n // 1000 % 50}0101{n % 1000:03d}"
    return first17 + people.id_check_digit(first17)


def _booking(n: int, start: datetime, now: datetime, same_person: bool = False):
    def job(session):
        ap.book(
            session,
            sender_id=f"tg-{n}",
            category="退役士兵",
            name="测试",
            mobile=f"139{n:08d}",
            id_number=fake_id(0 if same_person else n),
            centre_id="licang",
            start=start,
            now=now,
        )

    return job


def test_hot_slot_never_overbooks(make_session, engine_url, now):
    with make_session() as s:  # creates the schema; a slot row with capacity 5
        s.add(ap.Slot(centre_id="licang", start=START, capacity=CAPACITY, booked=0))
        s.commit()
    engine = make_engine(
        engine_url,
        **(
            {}
            if engine_url.startswith("sqlite")
            else {"pool_size": 20, "max_overflow": 0, "pool_timeout": 60}
        ),
    )
    try:
        outcomes = run_concurrently(
            engine, [_booking(n, START, now) for n in range(1, THREADS + 1)]
        )
        assert outcomes == Counter({"ok": CAPACITY, "full": THREADS - CAPACITY}), outcomes
        with Session(engine, future=True) as s:
            booked = s.execute(select(ap.Slot.booked).where(ap.Slot.start == START)).scalar_one()
            rows = s.execute(
                select(func.count())
                .select_from(ap.Appointment)
                .where(ap.Appointment.start == START)
            ).scalar_one()
            events = s.execute(select(func.count()).select_from(ap.AppointmentEvent)).scalar_one()
            assert booked == rows == events == CAPACITY
    finally:
        engine.dispose()


def test_same_person_racing_gets_one_booking(make_session, engine_url, now):
    """20 threads book the same ID number into different slots: one wins, the rest are told
    'already_booked' (by the pre-check or the unique index), and no place leaks."""
    make_session().close()
    starts = ap.slot_starts(ap.get_centre("licang"), START.date())
    engine = make_engine(
        engine_url,
        **(
            {}
            if engine_url.startswith("sqlite")
            else {"pool_size": 20, "max_overflow": 0, "pool_timeout": 60}
        ),
    )
    try:
        jobs = [_booking(n, starts[n % len(starts)], now, same_person=True) for n in range(20)]
        outcomes = run_concurrently(engine, jobs)
        assert outcomes == Counter({"ok": 1, "already_booked": 19}), outcomes
        with Session(engine, future=True) as s:
            assert s.execute(select(func.sum(ap.Slot.booked))).scalar_one() == 1
            assert s.execute(select(func.count()).select_from(ap.Appointment)).scalar_one() == 1
    finally:
        engine.dispose()
