"""报到 appointments (the bot/core/appointments package).

``now`` is Tuesday 2026-12-01 10:00. 李沧 (licang) has 12 slots a day of capacity 3:
09:00–11:00 and 13:30–16:30 starts, 30 minutes each.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.exc import IntegrityError

from bot.core import appointments as ap
from bot.core import districts, outbox, people, workdays
from bot.core.appointments import AppointmentError, BookingError, booking, deadlines
from bot.core.people import InvalidIdNumber, InvalidMobile
from bot.core.script import TRADITIONAL
from bot.core.timeparse import EVENING, MORNING, ParsedTime, parse

WED_9 = datetime(2026, 12, 2, 9, 0)


def fake_id(n: int) -> str:
    first17 = f"370202{1950 + n // 1000 % 50}0101{n % 1000:03d}"
    return first17 + people.id_check_digit(first17)


def book(session, now, n=1, start=WED_9, centre="licang", sender=None, **extra):
    return ap.book(
        session,
        sender_id=sender or f"tg-{n}",
        category="退役士兵",
        name="王建国",
        mobile=f"138{n:08d}",
        id_number=fake_id(n),
        centre_id=centre,
        start=start,
        now=now,
        **extra,
    )


def slot_row(session, centre, start):
    return session.execute(
        select(ap.Slot.capacity, ap.Slot.booked).where(
            ap.Slot.centre_id == centre, ap.Slot.start == start
        )
    ).first()


def reminders(session):
    return (
        session.execute(
            select(outbox.OutboxMessage)
            .where(outbox.OutboxMessage.kind == "reminder")
            .execution_options(populate_existing=True)
        )
        .scalars()
        .all()
    )


# ------------------------------------------------------------------ centres


def test_centres_file_has_one_centre_per_registry_district_none_configured():
    centres = ap.load_centres()
    assert [c.district for c in centres] == list(districts.names())
    assert len({c.id for c in centres}) == 10
    for centre in centres:
        assert centre.name == f"{centre.district}退役军人服务中心"
        # Nothing invented: no address or phone until the operator fills in deployment.yml …
        assert centre.address is None and centre.phone is None and centre.configured is False
        assert not centre.is_configured("address") and not centre.is_configured("hours")
        # … users read the truthful fallback, and booking runs on the defaults.
        assert "12345" in centre.address_text and "12345" in centre.phone_text
        assert centre.slot_minutes == 30 and centre.capacity_per_slot == 3
        assert centre.hours == ((time(9), time(11, 30)), (time(13, 30), time(17)))


def test_configured_values_replace_defaults_and_fallbacks(tmp_path):
    deployment = tmp_path / "deployment.yml"
    deployment.write_text(
        "defaults: {hours: [{start: '09:00', end: '10:00'}],"
        " slot_minutes: 30, capacity_per_slot: 3}\n"
        "fallbacks: {address: 请以公布为准, phone: 请拨打12345}\n"
        "centres:\n"
        "  licang: {address: 李沧某路1号, phone: 0532-1, hours: [{start: '08:00', end: '09:00'}],\n"
        "           slot_minutes: 20, capacity_per_slot: 5}\n"
        "  shinan: {address: null, phone: 0532-2}\n",
        encoding="utf-8",
    )
    by_id = {c.id: c for c in ap.load_centres(deployment_file=deployment)}
    licang, shinan, laixi = by_id["licang"], by_id["shinan"], by_id["laixi"]
    assert licang.configured and licang.address_text == "李沧某路1号"
    assert (licang.slot_minutes, licang.capacity_per_slot) == (20, 5)
    assert [s.time() for s in ap.slot_starts(licang, date(2026, 12, 2))] == [
        time(8),
        time(8, 20),
        time(8, 40),
    ]
    assert not shinan.configured and shinan.is_configured("phone")
    assert (shinan.address_text, shinan.phone_text) == ("请以公布为准", "0532-2")
    assert laixi.configured_fields == frozenset() and laixi.hours == ((time(9), time(10)),)


def test_service_centres_reference_registry_districts():
    names = districts.names()
    for centre in ap.load_centres():
        assert centre.district in names, centre.district
        assert ap.find_centre_by_district(centre.district) == centre


def test_reminder_renders_the_fallback_address(session, now):
    appt = book(session, now)
    text = reminders(session)[0].text
    assert appt.code in text and ap.get_centre("licang").address_text in text


@pytest.mark.parametrize(
    "text, centre_id",
    [
        ("李沧区", "licang"),
        ("我在李沧", "licang"),
        ("西海岸新区", "huangdao"),
        ("黄岛区", "huangdao"),
        ("嶗山區", "laoshan"),
        ("即墨", "jimo"),
        ("胶州市的", "jiaozhou"),
        ("市南区", "shinan"),
        ("市北", "shibei"),
        ("莱西市退役军人服务中心", "laixi"),
    ],
)
def test_find_centre_by_district(text, centre_id):
    assert ap.find_centre_by_district(text).id == centre_id


@pytest.mark.parametrize("text", ["", None, "北京", "随便"])
def test_find_centre_unknown(text):
    assert ap.find_centre_by_district(text) is None


def test_slot_grid():
    centre = ap.get_centre("licang")
    starts = ap.slot_starts(centre, date(2026, 12, 2))
    assert len(starts) == 12
    assert [s.strftime("%H:%M") for s in starts[:5]] == [
        "09:00",
        "09:30",
        "10:00",
        "10:30",
        "11:00",
    ]
    assert starts[5].strftime("%H:%M") == "13:30" and starts[-1].strftime("%H:%M") == "16:30"
    assert ap.slot_containing(centre, datetime(2026, 12, 2, 9, 15)) == WED_9
    assert ap.slot_containing(centre, datetime(2026, 12, 2, 11, 30)) is None
    assert ap.slot_containing(centre, datetime(2026, 12, 2, 12, 0)) is None


def test_capacity_is_configurable_per_centre(tmp_path):
    path, deployment = tmp_path / "centres.yml", tmp_path / "deployment.yml"
    path.write_text(
        "centres:\n  - {id: a, district: 甲区, name: 甲}\n  - {id: b, district: 乙区, name: 乙}\n",
        encoding="utf-8",
    )
    deployment.write_text(
        "defaults: {hours: [{start: '08:30', end: '10:00'}],"
        " slot_minutes: 45, capacity_per_slot: 3}\n"
        "centres:\n  a: {capacity_per_slot: 7}\n",
        encoding="utf-8",
    )
    a, b = ap.load_centres(path, deployment)
    assert (a.capacity_per_slot, b.capacity_per_slot, a.slot_minutes) == (7, 3, 45)
    assert a.is_configured("capacity_per_slot") and not b.is_configured("capacity_per_slot")
    assert [s.time() for s in ap.slot_starts(a, date(2026, 12, 2))] == [time(8, 30), time(9, 15)]


# ------------------------------------------------------------------ free slots


def test_list_free_slots_today_skips_past(session, now):
    free = ap.list_free_slots(session, "licang", now.date(), now)
    assert [f.start.strftime("%H:%M") for f in free] == [
        "10:30",
        "11:00",
        "13:30",
        "14:00",
        "14:30",
        "15:00",
        "15:30",
        "16:00",
        "16:30",
    ]
    assert all(f.free == 3 for f in free)


def test_list_free_slots_closed_past_and_far_days_are_empty(session, now):
    assert ap.list_free_slots(session, "licang", date(2026, 12, 5), now) == []  # Saturday
    assert ap.list_free_slots(session, "licang", date(2026, 11, 30), now) == []  # past
    assert ap.list_free_slots(session, "licang", date(2027, 1, 4), now) == []  # > 30 days


def test_list_free_slots_reflects_bookings(session, now):
    for n in range(3):
        book(session, now, n)
    book(session, now, 10, start=WED_9 + timedelta(minutes=30))
    free = {f.start: f.free for f in ap.list_free_slots(session, "licang", WED_9.date(), now)}
    assert WED_9 not in free and free[WED_9 + timedelta(minutes=30)] == 2


# ------------------------------------------------------------------ resolve_request


def resolve(session, now, text_or_parsed, centre="licang"):
    parsed = parse(text_or_parsed, now) if isinstance(text_or_parsed, str) else text_or_parsed
    return ap.resolve_request(session, centre, parsed, now)


def test_resolve_exact_time(session, now):
    result = resolve(session, now, "明天下午三点")
    assert result.ok and result.slot == datetime(2026, 12, 2, 15, 0) and result.reason is None


def test_resolve_time_inside_slot_maps_to_its_start(session, now):
    assert resolve(session, now, "明天9点15分").slot == WED_9


def test_resolve_part_of_day_and_day_only_pick_first_free(session, now):
    for n in range(3):
        book(session, now, n)
    assert resolve(session, now, "明天上午").slot == WED_9 + timedelta(minutes=30)
    assert resolve(session, now, "明天下午").slot == datetime(2026, 12, 2, 13, 30)
    assert resolve(session, now, "明天").slot == WED_9 + timedelta(minutes=30)
    assert resolve(session, now, "今天").slot == datetime(2026, 12, 1, 10, 30)


def test_resolve_past(session, now):
    result = resolve(session, now, ParsedTime(day=date(2026, 11, 30)))
    assert result.reason == "past" and not result.ok
    assert result.alternatives == [
        datetime(2026, 12, 1, 10, 30),
        datetime(2026, 12, 1, 11, 0),
        datetime(2026, 12, 1, 13, 30),
    ]
    assert resolve(session, now, "今天上午9点").reason == "past"
    assert resolve(session, now, "今天上午10点").reason == "past"  # the 10:00 slot has started


def test_resolve_closed_day_weekend_with_alternatives_by_distance(session, now):
    result = resolve(session, now, "周六")
    assert (result.reason, result.detail) == ("closed_day", "weekend")
    # Target Saturday 09:00: Friday afternoon is closer than Monday morning.
    assert result.alternatives == [
        datetime(2026, 12, 4, 16, 30),
        datetime(2026, 12, 4, 16, 0),
        datetime(2026, 12, 4, 15, 30),
    ]


def test_resolve_closed_by_staff_closure(session, now):
    workdays.add_closure(session, "licang", date(2026, 12, 3), "内部培训", "staff", now)
    result = resolve(session, now, "后天上午10点")
    assert (result.reason, result.detail) == ("closed_day", "内部培训")
    assert all(alt.date() != date(2026, 12, 3) for alt in result.alternatives)
    assert resolve(session, now, "后天上午10点", centre="shinan").ok


def test_resolve_holiday_and_make_up_saturday(session):
    now = datetime(2026, 10, 8, 10, 0)
    assert resolve(
        session, now, ParsedTime(day=date(2026, 10, 10), time=time(9, 0))
    ).slot == datetime(2026, 10, 10, 9, 0)  # 调休 Saturday is a working day
    result = resolve(session, datetime(2026, 9, 28, 10, 0), ParsedTime(day=date(2026, 10, 5)))
    assert (result.reason, result.detail) == ("closed_day", "holiday")


def test_resolve_outside_hours(session, now):
    noon = resolve(session, now, ParsedTime(day=date(2026, 12, 2), time=time(12, 0)))
    assert noon.reason == "outside_hours"
    assert noon.alternatives == [
        datetime(2026, 12, 2, 11, 0),
        datetime(2026, 12, 2, 10, 30),
        datetime(2026, 12, 2, 13, 30),
    ]
    assert (
        resolve(session, now, ParsedTime(day=date(2026, 12, 2), part_of_day=EVENING)).reason
        == "outside_hours"
    )
    assert resolve(session, now, "明天早上7点").reason == "outside_hours"


def test_resolve_too_far(session, now):
    result = resolve(session, now, ParsedTime(day=date(2027, 1, 5), part_of_day=MORNING))
    assert result.reason == "too_far"
    assert result.alternatives and all(
        alt.date() <= date(2026, 12, 31) for alt in result.alternatives
    )
    assert resolve(session, now, ParsedTime(day=date(2026, 12, 31), time=time(9))).ok  # day 30


def test_resolve_full_slot_offers_neighbours(session, now):
    for n in range(3):
        book(session, now, n)
    result = resolve(session, now, "明天上午9点")
    assert result.reason == "full"
    assert result.alternatives == [
        WED_9 + timedelta(minutes=30),
        WED_9 + timedelta(minutes=60),
        WED_9 + timedelta(minutes=90),
    ]


def test_resolve_whole_part_full(session, now):
    n = 0
    for start in ap.slot_starts(ap.get_centre("licang"), date(2026, 12, 2)):
        if start.hour >= 13:
            for _ in range(3):
                n += 1
                book(session, now, n, start=start)
    result = resolve(session, now, "明天下午")
    assert result.reason == "full"
    assert result.alternatives[0] == datetime(2026, 12, 2, 11, 0)


def test_resolve_unknown_centre(session, now):
    with pytest.raises(AppointmentError) as excinfo:
        resolve(session, now, "明天", centre="beijing")
    assert excinfo.value.code == "unknown_centre"


# ------------------------------------------------------------------ book


def test_book_happy_path(session, now):
    appt = ap.book(
        session,
        sender_id="tg-42",
        category="退役士兵",
        name=" 王建国 ",
        mobile="+86 138-1234-5678",
        id_number="370202199001011237",
        centre_id="licang",
        start=WED_9,
        now=now,
        discharge_date=date(2026, 11, 20),
    )
    assert len(appt.code) == 6 and set(appt.code) <= set(ap.CODE_ALPHABET)
    assert not set(appt.code) & set("0O1IL")
    assert (appt.status, appt.mobile, appt.masked_mobile, appt.name) == (
        "booked",
        "13812345678",
        "138****5678",
        "王建国",
    )
    assert appt.id_masked == "3702**********1237"
    assert "370202199001011237" not in appt.id_cipher and appt.id_number() == "370202199001011237"
    assert appt.id_fingerprint == people.id_fingerprint("370202199001011237")
    assert slot_row(session, "licang", WED_9) == (3, 1)
    assert [e.action for e in ap.history(session, appt)] == ["booked"]
    assert "370202199001011237" not in repr(appt) and "13812345678" not in repr(appt)


def test_book_enqueues_one_reminder_day_before_at_18(session, now):
    appt = book(session, now, 1)
    [reminder] = reminders(session)
    assert reminder.recipient == "tg-1" and reminder.due_at == datetime(2026, 12, 1, 18, 0)
    assert reminder.dedupe_key == ap.reminder_key(appt.id)
    assert appt.code in reminder.text and "李沧区退役军人服务中心" in reminder.text
    assert "12月2日" in reminder.text and "09:00" in reminder.text


def test_reminder_in_traditional_when_user_writes_traditional(session, now):
    book(session, now, 1, script=TRADITIONAL)
    [reminder] = reminders(session)
    assert "退役軍人服務中心" in reminder.text


def test_no_reminder_when_booked_after_reminder_time(session):
    late = datetime(2026, 12, 1, 18, 30)
    book(session, late, 1)
    assert reminders(session) == []


def test_no_reminder_for_senders_without_push_channel(session, now):
    book(session, now, 1, sender="cli-user")
    assert reminders(session) == []


def test_same_person_cannot_hold_two_active_bookings(session, now):
    first = book(session, now, 7)
    with pytest.raises(BookingError) as excinfo:
        book(session, now, 7, start=WED_9 + timedelta(days=1), sender="web-other")
    assert excinfo.value.code == "already_booked" and excinfo.value.existing.id == first.id
    assert slot_row(session, "licang", WED_9 + timedelta(days=1)) in (None, (3, 0))


def test_person_may_book_again_after_cancel_or_once_the_time_has_passed(session, now):
    first = book(session, now, 7)
    ap.cancel(session, first, "tg-7", now)
    second = book(session, now, 7, start=WED_9 + timedelta(hours=1))
    later = datetime(2026, 12, 2, 12, 0)  # second booking (10:00) is over
    third = book(session, later, 7, start=datetime(2026, 12, 3, 9, 0))
    assert len({first.id, second.id, third.id}) == 3


def test_database_enforces_one_active_booking_per_person(session, now):
    """Even if the pre-check is bypassed (a race), the unique index refuses a second booking."""
    first = book(session, now, 7)
    original_active_for = booking._active_for
    calls = []

    def blind(s, fingerprint):
        calls.append(1)
        return None if len(calls) == 1 else original_active_for(s, fingerprint)

    booking._active_for = blind
    try:
        with pytest.raises(BookingError) as excinfo:
            book(session, now, 7, start=WED_9 + timedelta(hours=1))
    finally:
        booking._active_for = original_active_for
    assert excinfo.value.code == "already_booked" and excinfo.value.existing.id == first.id
    # The savepoint was rolled back: the other slot's counter did not move.
    assert slot_row(session, "licang", WED_9 + timedelta(hours=1)) in (None, (3, 0))


def test_full_slot_is_refused_with_alternatives(session, now):
    for n in range(3):
        book(session, now, n)
    with pytest.raises(BookingError) as excinfo:
        book(session, now, 99)
    assert excinfo.value.code == "full"
    assert excinfo.value.alternatives[0] == WED_9 + timedelta(minutes=30)
    assert slot_row(session, "licang", WED_9) == (3, 3)
    assert (
        session.execute(
            select(ap.Appointment).where(
                ap.Appointment.id_fingerprint == people.id_fingerprint(fake_id(99))
            )
        ).first()
        is None
    )


@pytest.mark.parametrize(
    "start, code",
    [
        (datetime(2026, 12, 1, 9, 30), "past"),
        (datetime(2026, 12, 5, 9, 0), "closed_day"),  # Saturday
        (datetime(2026, 12, 2, 12, 0), "outside_hours"),
        (datetime(2026, 12, 2, 9, 15), "outside_hours"),  # not a slot start
        (datetime(2027, 1, 4, 9, 0), "too_far"),
    ],
)
def test_book_refuses_bad_times(session, now, start, code):
    with pytest.raises(BookingError) as excinfo:
        book(session, now, 1, start=start)
    assert excinfo.value.code == code
    assert session.execute(select(ap.Appointment)).first() is None


def test_book_validates_pii_before_writing(session, now):
    with pytest.raises(InvalidIdNumber) as excinfo:
        ap.book(
            session,
            sender_id="tg-1",
            category="退役士兵",
            name="王",
            mobile="13812345678",
            id_number="370202199001011238",
            centre_id="licang",
            start=WED_9,
            now=now,
        )
    assert excinfo.value.code == "bad_check_digit"
    with pytest.raises(InvalidMobile):
        ap.book(
            session,
            sender_id="tg-1",
            category="退役士兵",
            name="王",
            mobile="12345678901",
            id_number=fake_id(1),
            centre_id="licang",
            start=WED_9,
            now=now,
        )
    for field, code in (
        ("name", "bad_name"),
        ("category", "bad_category"),
        ("centre_id", "unknown_centre"),
    ):
        kwargs = {
            "sender_id": "tg-1",
            "category": "退役士兵",
            "name": "王",
            "mobile": "13812345678",
            "id_number": fake_id(1),
            "centre_id": "licang",
            "start": WED_9,
            "now": now,
        }
        kwargs[field] = "  " if field != "centre_id" else "nowhere"
        with pytest.raises(AppointmentError) as excinfo:
            ap.book(session, **kwargs)
        assert excinfo.value.code == code
    assert session.execute(select(ap.Appointment)).first() is None
    assert slot_row(session, "licang", WED_9) is None


def test_database_check_constraint_forbids_overbooking(session, now):
    book(session, now, 1)
    session.commit()
    with pytest.raises(IntegrityError):
        session.execute(update(ap.Slot).values(booked=ap.Slot.capacity + 1))
        session.flush()
    session.rollback()


def test_codes_are_unique(session, now):
    codes = {
        book(session, now, n, start=WED_9 + timedelta(minutes=30 * (n % 4))).code for n in range(12)
    }
    assert len(codes) == 12


# ------------------------------------------------------------------ look-ups


def test_get_for_sender_and_find_by_code_and_mobile(session, now):
    appt = book(session, now, 5, sender="tg-555")
    other = book(session, now, 6, sender="tg-555", start=WED_9 + timedelta(days=1))
    assert [a.id for a in ap.get_for_sender(session, "tg-555")] == [appt.id, other.id]
    assert ap.get_for_sender(session, "tg-nobody") == []
    messy_code = " " + appt.code.lower()[:3] + "-" + appt.code.lower()[3:]
    assert ap.find_by_code_and_mobile(session, messy_code, "+86 138 0000 0005").id == appt.id
    assert ap.find_by_code_and_mobile(session, appt.code, "13800000006") is None
    assert ap.find_by_code_and_mobile(session, appt.code, "not a phone") is None
    assert ap.get_by_code(session, appt.code.lower()).id == appt.id


def test_list_for_centre_day(session, now):
    late = book(session, now, 1, start=WED_9 + timedelta(hours=5))
    early = book(session, now, 2)
    gone = book(session, now, 3, start=WED_9 + timedelta(hours=1))
    book(session, now, 4, start=WED_9 + timedelta(days=1))
    book(session, now, 5, centre="shinan")
    ap.cancel(session, gone, "tg-3", now)
    assert [a.id for a in ap.list_for_centre_day(session, "licang", WED_9.date())] == [
        early.id,
        late.id,
    ]
    assert [
        a.id
        for a in ap.list_for_centre_day(session, "licang", WED_9.date(), include_cancelled=True)
    ] == [early.id, gone.id, late.id]


# ------------------------------------------------------------------ cancel


def test_cancel_releases_place_and_reminder(session, now):
    appt = book(session, now, 1)
    ap.cancel(session, appt, "tg-1", now)
    assert appt.status == "cancelled" and appt.active_fingerprint is None
    assert slot_row(session, "licang", WED_9) == (3, 0)
    assert [r.status for r in reminders(session)] == ["cancelled"]
    assert [e.action for e in ap.history(session, appt)] == ["booked", "cancelled"]
    with pytest.raises(AppointmentError) as excinfo:
        ap.cancel(session, appt, "tg-1", now)
    assert excinfo.value.code == "not_active"
    assert slot_row(session, "licang", WED_9) == (3, 0)  # never released twice


def test_cancel_after_start_is_refused(session, now):
    appt = book(session, now, 1)
    with pytest.raises(AppointmentError) as excinfo:
        ap.cancel(session, appt, "tg-1", WED_9 + timedelta(minutes=1))
    assert excinfo.value.code == "past"


def test_stale_object_cannot_cancel_twice(make_session, now):
    with make_session() as s:
        appt_id = book(s, now, 1).id
        s.commit()
    s1, s2 = make_session(), make_session()
    try:
        a2 = s2.get(ap.Appointment, appt_id)
        s2.commit()  # a2 stays loaded (expire_on_commit=False) but is now stale
        a1 = s1.get(ap.Appointment, appt_id)
        ap.cancel(s1, a1, "tg-1", now)
        s1.commit()
        with pytest.raises(AppointmentError) as excinfo:
            ap.cancel(s2, a2, "staff", now)
        assert excinfo.value.code == "not_active"
        s2.rollback()
    finally:
        s1.close()
        s2.close()
    with make_session() as s:
        assert slot_row(s, "licang", WED_9) == (3, 0)


# ------------------------------------------------------------------ reschedule


@pytest.mark.parametrize(
    "delta", [timedelta(hours=1), timedelta(minutes=-30)], ids=["later", "earlier"]
)
def test_reschedule_moves_place_and_reminder(session, now, delta):
    start = WED_9 + timedelta(minutes=30)
    appt = book(session, now, 1, start=start)
    [reminder] = reminders(session)
    new_start = start + delta + timedelta(days=1)
    ap.reschedule(session, appt, new_start, now)
    assert appt.start == new_start and appt.status == "booked"
    assert slot_row(session, "licang", start) == (3, 0)
    assert slot_row(session, "licang", new_start) == (3, 1)
    [moved] = reminders(session)
    assert moved.id == reminder.id and moved.due_at == datetime(2026, 12, 2, 18, 0)
    assert new_start.strftime("%H:%M") in moved.text and "12月3日" in moved.text
    assert [e.action for e in ap.history(session, appt)] == ["booked", "rescheduled"]


def test_reschedule_into_full_slot_leaves_original_intact(session, now):
    appt = book(session, now, 1)
    target = WED_9 + timedelta(hours=1)
    for n in range(2, 5):
        book(session, now, n, start=target)
    [reminder_before] = [r for r in reminders(session) if r.recipient == "tg-1"]
    with pytest.raises(BookingError) as excinfo:
        ap.reschedule(session, appt, target, now)
    assert excinfo.value.code == "full" and target not in excinfo.value.alternatives
    session.expire_all()
    again = session.get(ap.Appointment, appt.id)
    assert (again.start, again.status) == (WED_9, "booked")
    assert slot_row(session, "licang", WED_9) == (3, 1)
    assert slot_row(session, "licang", target) == (3, 3)
    [reminder_after] = [r for r in reminders(session) if r.recipient == "tg-1"]
    assert (reminder_after.due_at, reminder_after.text) == (
        reminder_before.due_at,
        reminder_before.text,
    )
    assert [e.action for e in ap.history(session, again)] == ["booked"]


def test_reschedule_errors(session, now):
    appt = book(session, now, 1)
    with pytest.raises(AppointmentError) as excinfo:
        ap.reschedule(session, appt, WED_9, now)
    assert excinfo.value.code == "same_slot"
    with pytest.raises(BookingError) as excinfo:
        ap.reschedule(session, appt, datetime(2026, 12, 5, 9, 0), now)
    assert excinfo.value.code == "closed_day"
    ap.cancel(session, appt, "tg-1", now)
    with pytest.raises(AppointmentError) as excinfo:
        ap.reschedule(session, appt, WED_9 + timedelta(hours=1), now)
    assert excinfo.value.code == "not_active"


def test_reschedule_to_tomorrow_late_in_the_day_drops_reminder(session, now):
    appt = book(session, now, 1, start=datetime(2026, 12, 4, 9, 0))
    evening = datetime(2026, 12, 1, 19, 0)
    ap.reschedule(session, appt, WED_9, evening)
    assert [r.status for r in reminders(session)] == ["cancelled"]


# ------------------------------------------------------------------ staff actions


def test_check_in_and_no_show(session, now):
    first = book(session, now, 1)
    second = book(session, now, 2)
    with pytest.raises(AppointmentError) as excinfo:
        ap.mark_checked_in(session, first, "staff-a", now)
    assert excinfo.value.code == "too_early"
    with pytest.raises(AppointmentError) as excinfo:
        ap.mark_no_show(session, second, "staff-a", WED_9 - timedelta(minutes=1))
    assert excinfo.value.code == "too_early"

    ap.mark_checked_in(session, first, "staff-a", WED_9 - timedelta(minutes=20))
    ap.mark_no_show(session, second, "staff-b", WED_9 + timedelta(minutes=40))
    assert (first.status, second.status) == ("checked_in", "no_show")
    assert first.active_fingerprint is None and second.active_fingerprint is None
    events = ap.history(session, second)
    assert (events[-1].action, events[-1].actor, events[-1].at) == (
        "no_show",
        "staff-b",
        WED_9 + timedelta(minutes=40),
    )
    # a late arrival can still be checked in after a no-show
    ap.mark_checked_in(session, second, "staff-b", WED_9 + timedelta(minutes=50))
    assert second.status == "checked_in"
    with pytest.raises(AppointmentError):
        ap.mark_no_show(session, first, "staff-a", WED_9 + timedelta(hours=1))
    assert slot_row(session, "licang", WED_9) == (3, 2)  # attended places stay used


# ------------------------------------------------------------------ deadlines


def test_days_left(tmp_path, monkeypatch):
    path = tmp_path / "reporting.yml"
    path.write_text(
        "categories:\n  退役士兵: {deadline_days: 30}\n  转业军官: {deadline_days: null}\n"
        "default: {deadline_days: 15}\n",
        encoding="utf-8",
    )
    assert ap.reporting_deadline_days("退役士兵", path) == 30
    assert ap.reporting_deadline_days("转业军官", path) is None
    assert ap.reporting_deadline_days("伤残军人", path) == 15
    assert ap.reporting_deadline_days("退役士兵", tmp_path / "absent.yml") is None
    assert ap.days_left(date(2026, 11, 20), 30, date(2026, 12, 1)) == 19
    assert ap.days_left(date(2026, 10, 1), 30, date(2026, 12, 1)) == -31
    assert ap.days_left(None, 30, date(2026, 12, 1)) is None
    assert ap.days_left_for("退役士兵", date(2026, 11, 20), date(2026, 12, 1), path) == 19
    monkeypatch.setattr(deadlines, "reporting_path", lambda: path)
    appt = ap.Appointment(category="退役士兵", discharge_date=date(2026, 11, 20))
    assert appt.days_left(date(2026, 12, 1)) == 19


def test_a_reporting_deadline_cannot_apply_at_65_or_older():
    today = date(2026, 12, 1)
    assert ap.deadline_can_apply(None, today)
    assert ap.deadline_can_apply(date(1961, 12, 2), today)  # 64 until tomorrow
    assert not ap.deadline_can_apply(date(1961, 12, 1), today)  # 65 today
    assert not ap.deadline_can_apply(date(1953, 5, 1), today)


def test_text_sql_sanity(session, now):
    """Tables are plain enough for the console to query directly."""
    book(session, now, 1)
    count = session.execute(
        text("SELECT count(*) FROM appointments WHERE status = 'booked'")
    ).scalar()
    assert count == 1
