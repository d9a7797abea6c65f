"""validate_appointment_form: each question's answer, time resolution and the confirmation step."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from actions import appointments as A
from actions import forms_common as fc
from bot.core import appointments, people, workdays
from tests.actions.trackers import (
    ID_NUMBER,
    MOBILE,
    next_requested,
    responses,
    run,
    slot_events,
    state,
    tracker,
)

FORM = "appointment_form"


ORDER = [
    "veteran_category",
    "district",
    "appointment_time",
    "person_name",
    "mobile",
    "id_number",
    "discharge_date",
    "appointment_confirmed",
]


def answered_before(requested):
    """The booking state in which ``requested`` is the question being asked."""
    later = ORDER[ORDER.index(requested) :]
    return state("booking_ready", **dict.fromkeys(later))


def form_turn(requested, text, intent="inform", slots=None, candidate=True, **kwargs):
    """The validation call Rasa makes after the user answered ``requested`` with ``text``."""
    candidates = {requested: text} if candidate else {}
    return tracker(
        text,
        intent,
        slots if slots is not None else answered_before(requested),
        form=FORM,
        requested_slot=requested,
        candidates=candidates,
        **kwargs,
    )


def valid_id(birth: str, seq: str) -> str:
    first17 = "370202" + birth + seq
    return first17 + people.id_check_digit(first17)


def fill_slot(session, start: datetime, centre: str = "shinan", count: int = 3) -> None:
    """Book ``count`` different people into one slot (capacity 3 per slot)."""
    for n in range(count):
        appointments.book(
            session,
            sender_id=f"other-{n}",
            category="退役士兵",
            name=f"张{n}",
            mobile=f"1391234567{n}",
            id_number=valid_id("19900101", f"12{n}"),
            centre_id=centre,
            start=start,
            now=datetime(2026, 12, 1, 9, 0),
        )
    session.commit()


# --------------------------------------------------------------------------- category, district


async def test_category_from_button(domain):
    t = form_turn("veteran_category", '/inform{"veteran_category":"伤残军人"}', slots={})
    events, messages = await run(A.ValidateAppointmentForm(), t, domain)
    assert slot_events(events)["veteran_category"] == "伤残军人"
    assert next_requested(events, t, domain, FORM) == "district"
    assert messages == []


async def test_category_from_words_and_aliases(domain):
    t = form_turn("veteran_category", "我是退伍兵，前年退的", slots={})
    events, _ = await run(A.ValidateAppointmentForm(), t, domain)
    assert slot_events(events)["veteran_category"] == "退役士兵"


async def test_unknown_category_is_asked_again(domain):
    t = form_turn("veteran_category", "随便吧", slots={})
    events, messages = await run(A.ValidateAppointmentForm(), t, domain)
    assert slot_events(events)["veteran_category"] is None
    assert responses(messages) == ["utter_invalid_veteran_category"]
    assert next_requested(events, t, domain, FORM) == "veteran_category"


async def test_district_alias_picks_the_centre(domain):
    # the NLU maps 西海岸 to the canonical entity value
    t = form_turn("district", "我家在西海岸", entities=[{"entity": "district", "value": "黄岛区"}])
    events, _ = await run(A.ValidateAppointmentForm(), t, domain)
    assert slot_events(events)["district"] == "黄岛区"
    assert slot_events(events)["centre_id"] == "huangdao"
    # no entity: the centre list's own names and short forms
    t = form_turn("district", "住李沧那边")
    events, _ = await run(A.ValidateAppointmentForm(), t, domain)
    assert slot_events(events)["centre_id"] == "licang"


async def test_unknown_district(domain):
    t = form_turn("district", "北京朝阳", slots={"veteran_category": "退役士兵"})
    events, messages = await run(A.ValidateAppointmentForm(), t, domain)
    assert slot_events(events)["district"] is None
    assert responses(messages) == ["utter_invalid_district"]


# --------------------------------------------------------------------------- time


async def test_part_of_day_gets_the_first_free_slot(domain):
    t = form_turn("appointment_time", "明天下午")
    events, messages = await run(A.ValidateAppointmentForm(), t, domain)
    assert slot_events(events)["appointment_time"] == "2026-12-02T13:30"
    assert responses(messages) == ["utter_time_selected"]
    assert messages[0]["when"] == "12月2日（周三）13:30"
    assert next_requested(events, t, domain, FORM) == "person_name"


async def test_exact_time(domain):
    t = form_turn("appointment_time", "12月3号9点半")
    events, messages = await run(A.ValidateAppointmentForm(), t, domain)
    assert slot_events(events)["appointment_time"] == "2026-12-03T09:30"
    assert messages == []


async def test_past_time_is_refused_with_alternatives(domain):
    t = form_turn("appointment_time", "昨天上午")
    events, messages = await run(A.ValidateAppointmentForm(), t, domain)
    assert slot_events(events)["appointment_time"] is None
    assert responses(messages) == ["utter_time_past", "utter_time_alternatives"]
    buttons = messages[1]["buttons"]
    assert 1 <= len(buttons) <= 3
    assert all(b["payload"].startswith('/inform{"time_choice": "2026-12-') for b in buttons)


async def test_weekend_is_refused(domain):
    t = form_turn("appointment_time", "12月5号上午")
    events, messages = await run(A.ValidateAppointmentForm(), t, domain)
    assert slot_events(events)["appointment_time"] is None
    assert responses(messages)[0] == "utter_time_closed_weekend"
    assert messages[0]["date"] == "2026年12月5日"


async def test_public_holiday_is_refused(domain, monkeypatch):
    monkeypatch.setattr(fc, "local_now", lambda: datetime(2026, 9, 28, 10, 0))
    t = form_turn("appointment_time", "10月1号上午")
    events, messages = await run(A.ValidateAppointmentForm(), t, domain)
    assert slot_events(events)["appointment_time"] is None
    assert responses(messages)[0] == "utter_time_closed_holiday"
    # the nearest alternatives skip the National Day week
    assert all("10月1日" not in b["title"] for b in messages[1]["buttons"])


async def test_staff_closure_is_refused_with_its_reason(domain, session):
    workdays.add_closure(
        session, "shinan", date(2026, 12, 3), "内部培训", "staff", datetime(2026, 11, 30)
    )
    session.commit()
    t = form_turn("appointment_time", "12月3号上午")
    events, messages = await run(A.ValidateAppointmentForm(), t, domain)
    assert responses(messages)[0] == "utter_time_closed_closure"
    assert messages[0]["reason"] == "内部培训"


async def test_outside_opening_hours(domain):
    t = form_turn("appointment_time", "明天晚上8点")
    events, messages = await run(A.ValidateAppointmentForm(), t, domain)
    assert slot_events(events)["appointment_time"] is None
    assert responses(messages)[0] == "utter_time_outside_hours"
    assert messages[0]["hours"] == "09:00-11:30、13:30-17:00"


async def test_a_full_morning_is_named_by_its_day_not_a_midnight_time(domain):
    """ "下礼拜二上午" with the morning full said "12月8日（周二）00:00已经约满了"."""
    from rasa_sdk.executor import CollectingDispatcher

    from actions.appointment_times import explain_refusal

    centre = appointments.get_centre("shinan")
    t = form_turn("appointment_time", "明天上午")
    for timed, expected in ((False, "2026年12月2日"), (True, "12月2日（周三）00:00")):
        dispatcher = CollectingDispatcher()
        day = datetime(2026, 12, 2)
        explain_refusal(dispatcher, t, domain, centre, appointments.FULL, day, [], timed=timed)
        assert dispatcher.messages[0]["when"] == expected


async def test_full_slot_offers_the_nearest_free_ones(domain, session):
    fill_slot(session, datetime(2026, 12, 2, 9, 0))
    t = form_turn("appointment_time", "明天上午9点")
    events, messages = await run(A.ValidateAppointmentForm(), t, domain)
    assert slot_events(events)["appointment_time"] is None
    assert responses(messages) == ["utter_time_full", "utter_time_alternatives"]
    payloads = [b["payload"] for b in messages[1]["buttons"]]
    assert '/inform{"time_choice": "2026-12-02T09:00"}' not in payloads
    assert '/inform{"time_choice": "2026-12-02T09:30"}' in payloads


async def test_an_alternative_button_is_accepted(domain):
    text = '/inform{"time_choice": "2026-12-04T10:00"}'
    t = form_turn("appointment_time", text)
    events, messages = await run(A.ValidateAppointmentForm(), t, domain)
    assert slot_events(events)["appointment_time"] == "2026-12-04T10:00"
    assert messages == []


async def test_time_not_understood(domain):
    """No day named: "whenever" gets the soonest free slots, anything else how to say a day —
    with the same buttons (see tests/actions/test_lookups_dates.py)."""
    t = form_turn("appointment_time", "随便哪天都行吧")
    events, messages = await run(A.ValidateAppointmentForm(), t, domain)
    assert slot_events(events)["appointment_time"] is None
    assert responses(messages) == ["utter_time_soonest"]


async def test_facts_instead_of_the_time_are_acknowledged_not_misunderstood(domain):
    """ "我叫周建军" at the time question was kept, but the bot said it did not understand which
    day; then the phone got exactly the same answer. Now each is acknowledged by its value."""
    t = form_turn("appointment_time", "我叫周建军")
    events, messages = await run(A.ValidateAppointmentForm(), t, domain)
    assert slot_events(events)["person_name"] == "周建军"
    assert slot_events(events)["appointment_time"] is None
    assert responses(messages) == ["utter_facts_noted"] and messages[0]["facts"] == "周建军"
    slots = {**answered_before("appointment_time"), "person_name": "周建军"}
    t = form_turn("appointment_time", "13953221187", slots=slots)
    events, messages = await run(A.ValidateAppointmentForm(), t, domain)
    assert slot_events(events)["mobile"] == "13953221187"
    assert responses(messages) == ["utter_facts_noted"] and messages[0]["facts"] == "139****1187"
    # a time given with them is the answer, as before
    t = form_turn("appointment_time", "我叫周建军 12月4号上午十点", slots=slots)
    events, messages = await run(A.ValidateAppointmentForm(), t, domain)
    assert slot_events(events)["appointment_time"] == "2026-12-04T10:00"
    assert "utter_facts_noted" not in responses(messages)


async def test_traditional_input_gets_traditional_buttons(domain):
    t = form_turn("appointment_time", "昨天上午", history=["我想預約報到"])
    events, messages = await run(A.ValidateAppointmentForm(), t, domain)
    titles = [b["title"] for b in messages[1]["buttons"]]
    assert titles and all("週" in title for title in titles)  # 周三 → 週三
    # Traditional words are understood as well
    t = form_turn("appointment_time", "後天下午")
    events, _ = await run(A.ValidateAppointmentForm(), t, domain)
    assert slot_events(events)["appointment_time"] == "2026-12-03T13:30"


# --------------------------------------------------------------------------- person


@pytest.mark.parametrize(
    "text, name",
    [
        ("王建国", "王建国"),
        ("我叫李福田", "李福田"),
        ("我叫王建国，是退役士兵", "王建国"),
        ("姓名：欧阳娜娜", "欧阳娜娜"),
    ],
)
async def test_name(domain, text, name):
    t = form_turn("person_name", text)
    events, _ = await run(A.ValidateAppointmentForm(), t, domain)
    assert slot_events(events)["person_name"] == name


async def test_not_a_name(domain):
    t = form_turn("person_name", "123")
    events, messages = await run(A.ValidateAppointmentForm(), t, domain)
    assert slot_events(events)["person_name"] is None
    assert responses(messages) == ["utter_invalid_person_name"]


@pytest.mark.parametrize(
    "text",
    ["13812345678", "138 1234 5678", "我的手机是１３８１２３４５６７８", "+86 138-1234-5678"],
)
async def test_mobile_accepted(domain, text):
    t = form_turn("mobile", text)
    events, _ = await run(A.ValidateAppointmentForm(), t, domain)
    assert slot_events(events)["mobile"] == MOBILE


@pytest.mark.parametrize(
    "text, code",
    [("12345", "bad_format"), ("12345678901", "not_mobile"), ("我没有手机", "bad_format")],
)
async def test_invalid_phone(domain, text, code):
    t = form_turn("mobile", text)
    events, messages = await run(A.ValidateAppointmentForm(), t, domain)
    assert slot_events(events)["mobile"] is None
    assert responses(messages) == [f"utter_invalid_mobile_{code}"]
    assert next_requested(events, t, domain, FORM) == "mobile"


async def test_id_number_is_kept_encrypted(domain):
    t = form_turn("id_number", ID_NUMBER, candidate=False)
    events, messages = await run(A.ValidateAppointmentForm(), t, domain)
    token = slot_events(events)["id_number"]
    assert messages == []
    assert ID_NUMBER not in str(events)  # the clear number never reaches the tracker
    assert people.decrypt_id(token) == ID_NUMBER


@pytest.mark.parametrize(
    "text, code",
    [
        (ID_NUMBER[:-1] + ("0" if ID_NUMBER[-1] != "0" else "1"), "bad_check_digit"),
        ("37020219800101", "bad_length"),
        ("370202199013451234", "bad_birthdate"),
    ],
)
async def test_invalid_id(domain, text, code):
    t = form_turn("id_number", text, candidate=False)
    events, messages = await run(A.ValidateAppointmentForm(), t, domain)
    assert slot_events(events)["id_number"] is None
    assert responses(messages) == [f"utter_invalid_id_number_{code}"]


async def test_a_question_instead_of_the_id_is_a_digression(domain):
    """A protected intent: nothing is extracted, so Rasa rejects the form and the rules answer."""
    t = form_turn("id_number", "服务中心电话多少", intent="ask_contact", candidate=False)
    events, messages = await run(A.ValidateAppointmentForm(), t, domain)
    assert "id_number" not in slot_events(events)
    assert messages == []


# --------------------------------------------------------------------------- deadline question


async def test_discharge_date_only_for_categories_with_a_deadline(domain):
    form = A.ValidateAppointmentForm()
    slots = form.domain_slots(domain)
    soldier = await form.required_slots(
        slots, None, tracker(slots={"veteran_category": "退役士兵"}), domain
    )
    officer = await form.required_slots(
        slots, None, tracker(slots={"veteran_category": "转业军官"}), domain
    )
    assert "discharge_date" in soldier and "discharge_date" not in officer


def _id_born(year: int) -> str:
    first17 = f"370214{year}0315123"
    return first17 + people.id_check_digit(first17)


@pytest.mark.parametrize("born, asked", [(1953, False), (1961, False), (1962, True), (1998, True)])
async def test_discharge_date_not_asked_of_someone_too_old_to_be_recently_discharged(
    domain, born, asked
):
    """A 73-year-old 退伍老兵's 30-day reporting deadline ended decades ago: the ID given before
    the question says so (today is 2026-12-01 in these tests; 65 is the limit)."""
    form = A.ValidateAppointmentForm()
    slots = form.domain_slots(domain)
    token = people.encrypt_id(_id_born(born))
    required = await form.required_slots(
        slots, None, tracker(slots={"veteran_category": "退役士兵", "id_number": token}), domain
    )
    assert ("discharge_date" in required) is asked


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2026年11月20日", "2026-11-20"),
        ("9月1号", "2026-09-01"),
        ("12月20号", "2025-12-20"),  # a month and day still to come this year: last year's
        ('/inform{"choice":"unknown"}', "unknown"),
        ("记不清了", "unknown"),
    ],
)
async def test_discharge_date(domain, text, expected):
    t = form_turn("discharge_date", text)
    events, _ = await run(A.ValidateAppointmentForm(), t, domain)
    assert slot_events(events)["discharge_date"] == expected


@pytest.mark.parametrize("text", ["2027年1月5日", "下周五上午10点半", "明天", "下个月3号"])
async def test_discharge_date_in_the_future(domain, text):
    """A future day said as such is not moved back a year (it was: "下周五上午10点半", meant as
    a booking time, became a discharge date a year earlier)."""
    t = form_turn("discharge_date", text)
    events, messages = await run(A.ValidateAppointmentForm(), t, domain)
    assert slot_events(events)["discharge_date"] is None
    assert "utter_discharge_date_future" in responses(messages)


# --------------------------------------------------------------------------- confirmation


def confirm_turn(text, intent="inform"):
    slots = state("booking_ready", appointment_confirmed=None)
    return form_turn("appointment_confirmed", text, intent, slots=slots)


async def test_confirm(domain):
    t = confirm_turn("/affirm", "affirm")
    events, _ = await run(A.ValidateAppointmentForm(), t, domain)
    assert slot_events(events)["appointment_confirmed"] is True
    assert next_requested(events, t, domain, FORM) is None  # the form is done


async def test_deny_asks_what_to_change(domain):
    t = confirm_turn("/deny", "deny")
    events, _ = await run(A.ValidateAppointmentForm(), t, domain)
    assert slot_events(events)["appointment_confirmed"] is None
    assert slot_events(events)["appointment_change"] is True
    slots = {**state("booking_ready", appointment_confirmed=None), "appointment_change": True}
    _, messages = await run(
        A.ActionAskAppointmentConfirmed(), tracker("/deny", "deny", slots, form=FORM), domain
    )
    assert responses(messages) == ["utter_ask_what_to_change"]


async def test_change_a_field_by_button_or_words(domain):
    t = confirm_turn('/inform{"choice":"mobile"}')
    events, _ = await run(A.ValidateAppointmentForm(), t, domain)
    assert slot_events(events)["mobile"] is None
    assert next_requested(events, t, domain, FORM) == "mobile"
    t = confirm_turn("时间不对，我要改一下")
    events, _ = await run(A.ValidateAppointmentForm(), t, domain)
    assert slot_events(events)["appointment_time"] is None
    assert next_requested(events, t, domain, FORM) == "appointment_time"
    t = confirm_turn('/inform{"choice":"district"}')
    events, _ = await run(A.ValidateAppointmentForm(), t, domain)
    assert (
        slot_events(events)["centre_id"] is None
        and next_requested(events, t, domain, FORM) == "district"
    )


async def test_a_new_time_at_the_confirmation(domain):
    t = confirm_turn("改成12月3号上午10点")
    events, _ = await run(A.ValidateAppointmentForm(), t, domain)
    assert slot_events(events)["appointment_time"] == "2026-12-03T10:00"
    assert next_requested(events, t, domain, FORM) == "appointment_confirmed"


async def test_summary_shows_masked_id_and_phone(domain):
    slots = state("booking_ready", appointment_confirmed=None)
    _, messages = await run(
        A.ActionAskAppointmentConfirmed(),
        tracker("2026年11月20日", "inform", slots, form=FORM),
        domain,
    )
    message = messages[0]
    assert message["response"] == "utter_confirm_appointment"
    assert message["id_number"] == "3702**********" + ID_NUMBER[-4:]
    assert message["mobile"] == "138****5678"
    assert message["centre"] == "市南区退役军人服务中心"
    assert message["when"] == "12月2日（周三）14:00"
    assert ID_NUMBER not in str(messages)


async def test_ask_time_shows_the_centres_hours(domain):
    _, messages = await run(
        A.ActionAskAppointmentTime(),
        tracker("市南区", "inform", state("booking_started"), form=FORM),
        domain,
    )
    assert messages[0]["response"] == "utter_ask_appointment_time"
    assert messages[0]["centre"] == "市南区退役军人服务中心"
    assert messages[0]["hours"] == "09:00-11:30、13:30-17:00"


async def test_prefilled_answers_are_kept_at_activation(domain):
    """At activation (no question asked yet) the latest message is not an answer: the booking
    restarted after a slot was taken must keep the name, phone and ID it already has."""
    slots = state("booking_ready", appointment_time=None, appointment_confirmed=None)
    candidates = {k: v for k, v in slots.items() if v is not None and k in ORDER}
    t = tracker("/affirm", "affirm", {}, form=FORM, requested_slot=None, candidates=candidates)
    events, messages = await run(A.ValidateAppointmentForm(), t, domain)
    values = slot_events(events)
    assert values["mobile"] == MOBILE and values["person_name"] == "王建国"
    assert values["centre_id"] == "shinan"
    assert messages == []
    assert next_requested(events, t, domain, FORM) == "appointment_time"
