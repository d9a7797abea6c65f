"""Names, mobiles and free texts are encrypted in the core tables (issue #9, finding 3).

Before: ``appointments.name/mobile``, ``wishes.mobile/description``, ``job_seekers.name/mobile``
and ``handoff_requests.first_text`` were plain text, so a copied database file gave them away.
Now the rows hold Fernet tokens (the ID number's key) and a keyed hash of the mobile; services and
staff pages still read plain values, and a look-up by 确认码 + mobile still works — on SQLite and
PostgreSQL.
"""

from __future__ import annotations

from datetime import datetime

import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.orm import Session

from bot.core import appointments as ap
from bot.core import handoff, jobs, migrate, people, settings
from bot.core import wishes as W
from bot.core.db import make_engine

WED_9 = datetime(2026, 12, 2, 9, 0)
NAME, MOBILE, OTHER_MOBILE = "欧阳建国", "13912345678", "13987654321"
DESCRIPTION = "想要一台电暖器过冬，联系我13912345678"


def fake_id(n: int) -> str:
    first17 = f"37020219600101{n % 1000:03d}"
    return first17 + people.id_check_digit(first17)


def _book(session, now, n=1, mobile="+86 139-1234-5678"):
    return ap.book(
        session,
        sender_id=f"tg-{n}",
        category="退役士兵",
        name=NAME,
        mobile=mobile,
        id_number=fake_id(n),
        centre_id="licang",
        start=WED_9,
        now=now,
    )


def _raw(session, sql: str) -> list[tuple]:
    return [tuple(row) for row in session.execute(text(sql)).fetchall()]


def _plain(values) -> set[str]:
    return {str(v) for row in values for v in row if v is not None}


def test_rows_hold_ciphertext_and_services_read_plain_values(session, now):
    appointment = _book(session, now)
    wish = W.submit(
        session,
        sender_id="tg-1",
        category="生活用品",
        description=DESCRIPTION,
        mobile=MOBILE,
        now=now,
    )
    seeker = jobs.register_seeker(
        session, sender_id="tg-1", skills="开叉车", mobile=MOBILE, name=NAME, now=now
    )
    waiting = handoff.request(session, "tg-1", "crisis", f"我是{NAME}，不想活了", now)
    session.commit()
    (first_text,) = _raw(session, "SELECT first_text FROM handoff_requests")[0]
    assert NAME not in first_text and "不想活" not in first_text

    stored = (
        _raw(session, "SELECT name_cipher, mobile_cipher, mobile_hash FROM appointments")
        + _raw(session, "SELECT mobile_cipher, description, mobile_hash FROM wishes")
        + _raw(session, "SELECT name_cipher, mobile_cipher, mobile_hash FROM job_seekers")
    )
    everything = " ".join(_plain(stored))
    assert NAME not in everything and MOBILE not in everything and "电暖器" not in everything
    for name_token, mobile_token, digest in (stored[0], stored[2]):
        assert people.decrypt_value(name_token) == NAME
        assert people.decrypt_value(mobile_token) == MOBILE
        assert digest == people.mobile_fingerprint(MOBILE)
    assert people.decrypt_value(stored[1][1]) == DESCRIPTION

    session.expire_all()  # read back from the database, not from the identity map
    assert (appointment.name, appointment.mobile, appointment.masked_mobile) == (
        NAME,
        MOBILE,
        "139****5678",
    )
    assert (wish.mobile, wish.description) == (MOBILE, DESCRIPTION)
    assert (seeker.name, seeker.mobile, seeker.name_masked) == (NAME, MOBILE, "欧**国")
    assert handoff.queue(session)[0].first_text == waiting.first_text == f"我是{NAME}，不想活了"


def test_lookup_by_code_checks_the_mobile_through_its_hash(session, now):
    appointment = _book(session, now)
    session.commit()
    session.expire_all()
    assert ap.find_by_code_and_mobile(session, appointment.code.lower(), "139 1234 5678").id == (
        appointment.id
    )
    assert ap.find_by_code_and_mobile(session, appointment.code, OTHER_MOBILE) is None
    assert ap.find_by_code_and_mobile(session, appointment.code, "not a phone") is None
    assert ap.find_by_code_and_mobile(session, "ZZZZZZ", MOBILE) is None
    assert people.phone_matches(appointment, "＋８６ １３９１２３４５６７８")  # full-width
    assert not people.phone_matches(appointment, None)
    assert not people.phone_matches(None, MOBILE)


def test_changing_a_mobile_changes_its_hash(session, now):
    seeker = jobs.register_seeker(session, sender_id="tg-9", skills="电工", mobile=MOBILE, now=now)
    jobs.register_seeker(session, sender_id="tg-9", skills="电工", mobile=OTHER_MOBILE, now=now)
    session.commit()
    assert people.phone_matches(seeker, OTHER_MOBILE) and not people.phone_matches(seeker, MOBILE)


def test_duplicate_booking_is_still_found_without_plain_columns(session, now):
    _book(session, now, n=1)
    session.commit()
    with pytest.raises(ap.BookingError) as excinfo:
        _book(session, now, n=1, mobile=OTHER_MOBILE)
    assert excinfo.value.code == "already_booked" and excinfo.value.existing.mobile == MOBILE


def test_migration_seals_existing_rows_and_downgrade_restores_them(engine_url, now):
    migrate.upgrade(engine_url, "0006_channel_contacts")
    engine = make_engine(engine_url)
    try:
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO appointment_slots (id, centre_id, start, capacity, booked) "
                    "VALUES (1, 'licang', :start, 3, 1)"
                ),
                {"start": WED_9},
            )
            connection.execute(
                text(
                    "INSERT INTO appointments (id, code, sender_id, category, name, mobile, "
                    "id_cipher, id_fingerprint, id_masked, centre_id, slot_id, start, status, "
                    "created_at, updated_at) VALUES (1, 'K7P2QX', 'tg-1', '退役士兵', :name, "
                    ":mobile, 'x', 'f', '3702**********1234', 'licang', 1, :start, 'booked', "
                    ":now, :now)"
                ),
                {"name": NAME, "mobile": MOBILE, "start": WED_9, "now": now},
            )
            connection.execute(
                text(
                    "INSERT INTO wishes (id, code, sender_id, category, description, mobile, "
                    "consent_publish, status, public_text, created_at, updated_at) VALUES "
                    "(1, 'W1', 'tg-1', '生活用品', :description, :mobile, false, 'submitted', "
                    "'想要一台电暖器过冬', :now, :now)"
                ),
                {"description": DESCRIPTION, "mobile": MOBILE, "now": now},
            )
            connection.execute(
                text(
                    "INSERT INTO job_seekers (id, sender_id, name, skills, mobile, active, "
                    "created_at, updated_at) VALUES (1, 'tg-1', :name, '电工', NULL, true, "
                    ":now, :now)"
                ),
                {"name": NAME, "now": now},
            )

            connection.execute(
                text(
                    "INSERT INTO handoff_requests (sender_id, reason, priority, first_text, "
                    "status, created_at) VALUES ('tg-1', 'human', 1, :first, 'waiting', :now)"
                ),
                {"first": f"我叫{NAME}", "now": now},
            )

        migrate.upgrade(engine_url)
        with Session(engine, future=True) as s:
            (first_text,) = _raw(s, "SELECT first_text FROM handoff_requests")[0]
            assert NAME not in first_text and people.decrypt_value(first_text) == f"我叫{NAME}"
            stored = _raw(s, "SELECT name_cipher, mobile_cipher FROM appointments")
            stored += _raw(s, "SELECT mobile_cipher, description FROM wishes")
            stored += _raw(s, "SELECT name_cipher, mobile_cipher, mobile_hash FROM job_seekers")
            everything = " ".join(_plain(stored))
            assert NAME not in everything and MOBILE not in everything
            assert stored[2][2] is None  # a seeker without a mobile has no hash
            found = ap.find_by_code_and_mobile(s, "k7p2qx", MOBILE)
            assert found is not None and (found.name, found.mobile) == (NAME, MOBILE)
            wish = W.get_by_code(s, "W1")
            assert (wish.mobile, wish.description) == (MOBILE, DESCRIPTION)
            assert jobs.get_seeker(s, "tg-1").name == NAME

        command.downgrade(migrate.alembic_config(engine_url), "0006_channel_contacts")
        with Session(engine, future=True) as s:
            assert _raw(s, "SELECT name, mobile FROM appointments") == [(NAME, MOBILE)]
            assert _raw(s, "SELECT description, mobile FROM wishes") == [(DESCRIPTION, MOBILE)]
            assert _raw(s, "SELECT name, mobile FROM job_seekers") == [(NAME, None)]
            assert _raw(s, "SELECT first_text FROM handoff_requests") == [(f"我叫{NAME}",)]
    finally:
        engine.dispose()


def test_migrating_a_sqlite_file_leaves_no_plain_values_in_its_free_pages(tmp_path, now):
    """Dropping the plain columns leaves their bytes in free pages; the upgrade vacuums the file."""
    url = f"sqlite:///{tmp_path / 'old.db'}"
    migrate.upgrade(url, "0006_channel_contacts")
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            for n in range(300):
                connection.execute(
                    text(
                        "INSERT INTO job_seekers (sender_id, name, skills, mobile, active, "
                        "created_at, updated_at) VALUES (:sender, :name, '电工', :mobile, true, "
                        ":now, :now)"
                    ),
                    {"sender": f"tg-{n}", "name": NAME, "mobile": MOBILE, "now": now},
                )
    finally:
        engine.dispose()
    migrate.upgrade(url)
    data = b"".join(path.read_bytes() for path in tmp_path.glob("old.db*"))
    assert NAME.encode() not in data and MOBILE.encode() not in data


def test_the_key_is_read_without_building_a_settings_snapshot(monkeypatch, tmp_path):
    """Every sealed value read or written asks for the key: it must not rebuild the whole
    settings snapshot (which reads the stored Rasa token from disk) each time."""

    def no_snapshot(cls, environ=None):
        raise AssertionError("a whole settings snapshot was built")

    monkeypatch.setattr(settings.Settings, "from_env", classmethod(no_snapshot))
    given = settings.id_key()
    assert people.decrypt_value(people.encrypt_value(NAME)) == NAME
    monkeypatch.delenv("RJ_ID_KEY")
    monkeypatch.setenv("RJ_DATA_DIR", str(tmp_path / "keys"))
    (tmp_path / "keys").mkdir()
    (tmp_path / "keys" / "id.key").write_text(given.decode() + "\n")
    assert settings.id_key() == given
