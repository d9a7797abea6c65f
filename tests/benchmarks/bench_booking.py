"""Booking throughput under contention, and proof of zero double bookings.

    python -m tests.benchmarks.bench_booking [--seconds 5] [--threads 8] [--no-pg]

For SQLite (a WAL file) and PostgreSQL (a throw-away database ``rj_bench_<random>`` created via
``postgresql://root@127.0.0.1:5432/postgres`` and dropped afterwards) the schema is built with
the real migrations, then two runs are timed, each with one Session/transaction per attempt as
the action server does:

* ``spread``: N threads book distinct people into random slots of all 10 centres over the next
  30 days (some attempts land on full slots, as in real life);
* ``hot-slot``: N threads hammer one slot of capacity 300 until it is full (every thread
  then sees one 'full' and stops).

Afterwards the database is audited: a "double booking" is a slot with more active bookings
than its capacity, a counter that disagrees with the rows, or a person with two active
bookings. The count must be 0.
"""

from __future__ import annotations

import argparse
import os
import random
import secrets
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

NOW = datetime(2026, 12, 1, 10, 0)
HOT_CAPACITY = 300
PG_ADMIN_DSN = "postgresql://root@127.0.0.1:5432/postgres"


@dataclass
class RunResult:
    backend: str
    run: str
    threads: int
    outcomes: Counter
    seconds: float
    double: int

    @property
    def booked(self) -> int:
        return self.outcomes.get("ok", 0)

    @property
    def attempts(self) -> int:
        return sum(self.outcomes.values())


def fake_id(n: int) -> str:
    from bot.core.people import id_check_digit

    k = n // 1000  # distinct for n < 16.8 million: sequence, year, day and month all vary
    first17 = (
        f"370202{1950 + k % 50}{1 + (k // 1400) % 12:02d}{1 + (k // 50) % 28:02d}{n % 1000:03d}"
    )
    return first17 + id_check_digit(first17)


class People:
    """Thread-safe source of distinct people (the ID numbers must never repeat in a backend)."""

    def __init__(self) -> None:
        self._next = 1
        self._lock = threading.Lock()

    def take(self) -> int:
        with self._lock:
            self._next += 1
            return self._next


def _attempt(engine, n: int, centre_id: str, start: datetime) -> str:
    from sqlalchemy.orm import Session

    from bot.core import appointments as ap

    with Session(engine, future=True, expire_on_commit=False) as session:
        try:
            ap.book(
                session,
                sender_id=f"tg-{n}",
                category="退役士兵",
                name="压测",
                mobile=f"13{n % 10}{n:08d}"[-11:],
                id_number=fake_id(n),
                centre_id=centre_id,
                start=start,
                now=NOW,
            )
            session.commit()
            return "ok"
        except ap.BookingError as exc:
            session.rollback()
            return exc.code
        except Exception as exc:  # counted as 'error:<type>' so the table shows it
            session.rollback()
            return f"error:{type(exc).__name__}"


def _run_threads(
    threads: int, body: Callable[[], str | None], stop: Callable[[], bool]
) -> tuple[Counter, float]:
    counts: Counter = Counter()
    lock = threading.Lock()
    barrier = threading.Barrier(threads)

    def worker() -> None:
        barrier.wait()
        local: Counter = Counter()
        while not stop():
            outcome = body()
            if outcome is None:
                break
            local[outcome] += 1
        with lock:
            counts.update(local)

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    started = time.perf_counter()
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return counts, time.perf_counter() - started


def _all_slots(engine) -> list[tuple[str, datetime]]:
    from sqlalchemy.orm import Session

    from bot.core import appointments as ap

    with Session(engine, future=True) as session:
        return [
            (centre.id, free.start)
            for centre in ap.load_centres()
            for day in range(1, 31)
            for free in ap.list_free_slots(
                session, centre.id, NOW.date() + timedelta(days=day), NOW
            )
        ]


def audit(engine) -> int:
    """Number of double bookings of any kind (see module docstring)."""
    from sqlalchemy import func, select
    from sqlalchemy.orm import Session

    from bot.core import appointments as ap

    with Session(engine, future=True) as session:
        active = (
            select(ap.Appointment.slot_id, func.count().label("n"))
            .where(ap.Appointment.status == ap.BOOKED)
            .group_by(ap.Appointment.slot_id)
            .subquery()
        )
        slots = session.execute(
            select(ap.Slot.capacity, ap.Slot.booked, func.coalesce(active.c.n, 0)).outerjoin(
                active, active.c.slot_id == ap.Slot.id
            )
        ).all()
        bad_slots = sum(1 for capacity, booked, rows in slots if rows > capacity or booked != rows)
        per_person = (
            select(ap.Appointment.id_fingerprint)
            .where(ap.Appointment.status == ap.BOOKED)
            .group_by(ap.Appointment.id_fingerprint)
            .having(func.count() > 1)
        )
        bad_people = len(session.execute(per_person).all())
    return bad_slots + bad_people


def bench_backend(backend: str, url: str, seconds: float, threads: int) -> list[RunResult]:
    from bot.core import appointments as ap
    from bot.core import migrate
    from bot.core.db import make_engine

    migrate.upgrade(url)
    extra = {} if url.startswith("sqlite") else {"pool_size": threads, "max_overflow": 0}
    engine = make_engine(url, **extra)
    people = People()
    results = []
    try:
        from sqlalchemy.orm import Session

        hot = ("licang", datetime(2026, 12, 3, 14, 0))
        with Session(engine, future=True) as session:  # the hot slot gets a bigger capacity
            session.add(ap.Slot(centre_id=hot[0], start=hot[1], capacity=HOT_CAPACITY, booked=0))
            session.commit()
        slots = [slot for slot in _all_slots(engine) if slot != hot]
        rng = random.Random(7)
        rng_lock = threading.Lock()

        def spread() -> str:
            with rng_lock:
                centre_id, start = rng.choice(slots)
            return _attempt(engine, people.take(), centre_id, start)

        deadline = time.perf_counter() + seconds
        counts, elapsed = _run_threads(threads, spread, lambda: time.perf_counter() > deadline)
        results.append(RunResult(backend, "spread", threads, counts, elapsed, audit(engine)))

        full = threading.Event()
        hot_deadline = time.perf_counter() + 4 * seconds

        def hammer() -> str | None:
            outcome = _attempt(engine, people.take(), hot[0], hot[1])
            if outcome == "full":
                full.set()
            return outcome

        counts, elapsed = _run_threads(
            threads, hammer, lambda: full.is_set() or time.perf_counter() > hot_deadline
        )
        results.append(RunResult(backend, "hot-slot", threads, counts, elapsed, audit(engine)))
    finally:
        engine.dispose()
    return results


def _pg_database() -> tuple[str, Callable[[], None]]:
    import psycopg2

    admin = psycopg2.connect(PG_ADMIN_DSN, connect_timeout=5)
    admin.autocommit = True
    name = f"rj_bench_{secrets.token_hex(4)}"
    with admin.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()

    return f"postgresql+psycopg2://root@127.0.0.1:5432/{name}", drop


def print_table(results: list[RunResult]) -> None:
    header = (
        "backend",
        "run",
        "threads",
        "attempts",
        "booked",
        "full",
        "other",
        "secs",
        "bookings/s",
        "attempts/s",
        "double",
    )
    rows = []
    for r in results:
        other = r.attempts - r.booked - r.outcomes.get("full", 0)
        rows.append(
            (
                r.backend,
                r.run,
                str(r.threads),
                str(r.attempts),
                str(r.booked),
                str(r.outcomes.get("full", 0)),
                str(other),
                f"{r.seconds:.1f}",
                f"{r.booked / r.seconds:.0f}",
                f"{r.attempts / r.seconds:.0f}",
                str(r.double),
            )
        )
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(header)]
    line = "  ".join(h.ljust(w) for h, w in zip(header, widths, strict=False))
    print(line)
    print("-" * len(line))
    for row in rows:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=False)))
    odd = {k: v for r in results for k, v in r.outcomes.items() if k not in ("ok", "full")}
    if odd:
        print(f"other outcomes: {odd}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="length of each timed run")
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--no-pg", action="store_true", help="SQLite only")
    args = parser.parse_args(argv)

    workdir = tempfile.mkdtemp(prefix="rj_bench_")
    os.environ["RJ_DATA_DIR"] = workdir
    os.environ.setdefault("RJ_ID_KEY", "YmVuY2gta2V5LWZvci1yb25nanVuLWJlbmNobWFya3M=")
    results = bench_backend("sqlite", f"sqlite:///{workdir}/bench.db", args.seconds, args.threads)
    if not args.no_pg:
        url, drop = _pg_database()
        try:
            results += bench_backend("postgresql", url, args.seconds, args.threads)
        finally:
            drop()
    print_table(results)
    doubles = sum(r.double for r in results)
    print(f"double bookings: {doubles}")
    return 1 if doubles else 0


if __name__ == "__main__":
    sys.exit(main())
