"""Wrong code + phone look-ups are limited per code, in the database (bot.core.lookup_limits)."""

from __future__ import annotations

from datetime import timedelta

from bot.core import appointments, codes, lookup_limits, people, wishes


def test_find_code_anywhere_in_a_message():
    assert codes.find_in_text("确认码 K7QX3M 我约的是哪天") == "K7QX3M"
    assert codes.find_in_text("我上回约过报到，码是k7qx3m") == "K7QX3M"
    assert codes.find_in_text("我的確認碼是 Ｋ７ＱＸ３Ｍ，想改約時間") == "K7QX3M"
    assert codes.find_in_text("码是 K7Q X3M") == "K7QX3M"
    assert codes.find_in_text("查预约 确认码K7QX3M 手机13912345678") == "K7QX3M"
    assert codes.find_in_text("AB2345 13605329876") == "AB2345"  # digits end the code
    assert codes.find_in_text("K7QX3M13605329876") == "K7QX3M"  # no space before the phone


def test_no_code_is_cut_out_of_numbers_or_words():
    assert codes.find_in_text("电话 139 1234 5678") is None
    assert codes.find_in_text("身份证 370214197003150012") is None
    assert codes.find_in_text("我约的报到是哪天来着") is None
    assert codes.find_in_text("好像是1234") is None
    assert codes.find_in_text("K7QX3MA") is None  # seven characters: not a code
    assert codes.find_in_text("OOIL10") is None  # look-alikes are not in the alphabet


def test_find_mobile_in_a_message():
    assert people.find_mobile("码是 K7QX3M 电话13605329876") == "13605329876"
    assert people.find_mobile("手机 139 1234 5678 谢谢") == "13912345678"
    assert people.find_mobile("K7QX3M") is None


def test_locks_after_the_limit_and_opens_after_the_period(session, now, monkeypatch):
    monkeypatch.setenv("RJ_LOOKUP_RATE_LIMIT", "3/3600")
    kind = lookup_limits.APPOINTMENT
    for minute in range(3):
        assert not lookup_limits.is_locked(session, kind, "K7QX3M", now)
        lookup_limits.record_failure(session, kind, "k7qx3m", now + timedelta(minutes=minute))
    later = now + timedelta(minutes=5)
    assert lookup_limits.is_locked(session, kind, "K7QX3M", later)
    # per code and per kind
    assert not lookup_limits.is_locked(session, kind, "HW8K3P", later)
    assert not lookup_limits.is_locked(session, lookup_limits.WISH, "K7QX3M", later)
    assert not lookup_limits.is_locked(session, kind, "K7QX3M", now + timedelta(minutes=61))


def test_rate_limits_off_disables_it(session, now, monkeypatch):
    monkeypatch.setenv("RJ_LOOKUP_RATE_LIMIT", "1/3600")
    lookup_limits.record_failure(session, lookup_limits.WISH, "HW8K3P", now)
    assert lookup_limits.is_locked(session, lookup_limits.WISH, "HW8K3P", now)
    monkeypatch.setenv("RJ_RATE_LIMITS", "off")
    assert not lookup_limits.is_locked(session, lookup_limits.WISH, "HW8K3P", now)


def test_guarded_lookup_counts_misses_and_stops_asking_the_database(session, now, monkeypatch):
    monkeypatch.setenv("RJ_LOOKUP_RATE_LIMIT", "2/3600")
    wish = wishes.submit(
        session,
        sender_id="web-1",
        category="维修",
        description="屋顶漏水想找人修",
        mobile="13812345678",
        now=now,
    )
    found, data = wishes.lookup_by_code_and_mobile(session, wish.code, "138 1234 5678", now)
    assert found == lookup_limits.FOUND and data["code"] == wish.code
    for _ in range(2):
        found, data = wishes.lookup_by_code_and_mobile(session, wish.code, "13900000000", now)
        assert (found, data) == (lookup_limits.NOT_FOUND, None)
    # locked: even the right phone is refused until the period is over
    found, _ = wishes.lookup_by_code_and_mobile(session, wish.code, "13812345678", now)
    assert found == lookup_limits.LOCKED
    found, _ = wishes.lookup_by_code_and_mobile(
        session, wish.code, "13812345678", now + timedelta(hours=2)
    )
    assert found == lookup_limits.FOUND


def test_appointment_lookup_by_unknown_code_counts_too(session, now, monkeypatch):
    monkeypatch.setenv("RJ_LOOKUP_RATE_LIMIT", "1/3600")
    found, _ = appointments.lookup_by_code_and_mobile(session, "K7QX3M", "13812345678", now)
    assert found == lookup_limits.NOT_FOUND
    found, _ = appointments.lookup_by_code_and_mobile(session, "K7QX3M", "13812345678", now)
    assert found == lookup_limits.LOCKED
