"""Retention for the core tables (issue #9, "set a retention period for both"): records finished
more than RJ_RETENTION_DAYS ago lose their personal values; open ones keep them.

Before: ``make purge`` cleared only Rasa's stores; bookings, wishes, job seekers and handoffs kept
names, mobiles and ID numbers for ever.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import text

from bot.core import appointments as ap
from bot.core import handoff, jobs, people, retention, settings
from bot.core import wishes as W
from bot.core.records_retention import anonymise_finished

LONG_AGO = datetime(2026, 3, 2, 9, 0)  # a Monday, 274 days before `now`
NAME, MOBILE = "欧阳建国", "13912345678"


def fake_id(n: int) -> str:
    first17 = f"37020219600101{n % 1000:03d}"
    return first17 + people.id_check_digit(first17)


def _book(session, when: datetime, n: int):
    return ap.book(
        session,
        sender_id=f"web-{n}",
        category="退役士兵",
        name=NAME,
        mobile=MOBILE,
        id_number=fake_id(n),
        centre_id="licang",
        start=when,
        now=when - timedelta(days=1),
    )


def _records(session, now):
    old = _book(session, LONG_AGO, 1)
    upcoming = _book(session, datetime(2026, 12, 2, 9, 0), 2)
    finished = W.submit(
        session,
        sender_id="web-1",
        category="生活用品",
        description=f"我叫{NAME}，想要一台电暖器，电话{MOBILE}",
        mobile=MOBILE,
        now=LONG_AGO,
    )
    W.withdraw(session, finished.id, "web-1", LONG_AGO)
    pending = W.submit(
        session,
        sender_id="web-2",
        category="助医",
        description="想要助听器",
        mobile=MOBILE,
        now=LONG_AGO,
    )
    jobs.register_seeker(session, sender_id="web-1", skills="电工", name=NAME, now=LONG_AGO)
    jobs.withdraw_seeker(session, "web-1", LONG_AGO)
    jobs.register_seeker(session, sender_id="web-2", skills="电工", name=NAME, now=LONG_AGO)
    closed = handoff.request(session, "web-1", "human", f"我叫{NAME}", LONG_AGO)
    handoff.release(session, closed.id, "agent1", LONG_AGO)
    waiting = handoff.request(session, "web-2", "human", f"我叫{NAME}", LONG_AGO)
    session.commit()
    return old, upcoming, finished, pending, closed, waiting


def test_finished_records_lose_their_personal_values_open_ones_keep_them(session, now):
    old, upcoming, finished, pending, closed, waiting = _records(session, now)
    done = anonymise_finished(session, now - timedelta(days=180))
    session.commit()
    assert (done.appointments, done.wishes, done.job_seekers, done.handoffs) == (1, 1, 1, 1)
    session.expire_all()

    assert (old.name, old.mobile, old.mobile_hash, old.id_number(), old.id_fingerprint) == (
        None,
        None,
        None,
        "",
        "",
    )
    assert old.id_masked.startswith("3702") and old.code and old.centre_id == "licang"
    assert not people.phone_matches(old, MOBILE)
    assert (upcoming.name, upcoming.mobile, upcoming.id_number()) == (NAME, MOBILE, fake_id(2))

    assert finished.mobile is None and finished.description == finished.public_text
    assert NAME not in finished.description and MOBILE not in finished.description
    assert pending.mobile == MOBILE and pending.description == "想要助听器"

    assert jobs.get_seeker(session, "web-1") is None
    assert jobs.get_seeker(session, "web-2").name == NAME

    assert closed.first_text == "" and waiting.first_text == f"我叫{NAME}"

    # a second run finds nothing more to clear
    again = anonymise_finished(session, now - timedelta(days=180))
    assert (again.appointments, again.wishes, again.job_seekers, again.handoffs) == (0, 0, 0, 0)


def test_make_purge_clears_the_core_database_and_its_file(tmp_path, monkeypatch, now):
    from bot.core import db, migrate

    url = f"sqlite:///{tmp_path / 'data' / 'rongjun.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    (tmp_path / "data").mkdir(exist_ok=True)
    migrate.upgrade(url)
    engine = db.make_engine(url)
    try:
        with db.session_scope(engine) as s:
            _records(s, now)
    finally:
        engine.dispose()

    done = retention.anonymise_core(180, settings.current(), now=lambda: now)
    assert done.appointments == 1
    engine = db.make_engine(url)
    try:
        with engine.connect() as connection:
            names = connection.execute(text("SELECT count(*) FROM appointments")).scalar()
            free_pages = connection.exec_driver_sql("PRAGMA freelist_count").scalar()
    finally:
        engine.dispose()
    assert names == 2 and free_pages == 0  # rows kept for the statistics; file vacuumed
    assert retention.main(["--days", "180"]) == 0
