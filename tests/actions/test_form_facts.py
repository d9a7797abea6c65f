"""The booking form keeps every fact a message gives, at the start or at any question, and
takes corrections at any question (issue #10, patterns 1–4). The clock is Tue 2026-12-01 10:00."""

from __future__ import annotations

from actions import appointments as A
from bot.core import people
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
ID_17 = "37028119750612003"
OTHER_ID = ID_17 + people.id_check_digit(ID_17)


def turn(text, requested, slots, intent="inform", candidate=True):
    """A validation call: ``requested`` was asked (None: the message that starts the form);
    the form's from_text mapping made the whole text the candidate of the requested slot."""
    candidates = {requested: text} if requested and candidate else {}
    return tracker(text, intent, slots, form=FORM, requested_slot=requested, candidates=candidates)


def before(requested, **overrides):
    """The finished booking state with ``requested`` and the questions after it unanswered."""
    order = [
        "veteran_category",
        "district",
        "appointment_time",
        "person_name",
        "mobile",
        "id_number",
        "discharge_date",
        "appointment_confirmed",
    ]
    later = order[order.index(requested) :]
    return state("booking_ready", **{**dict.fromkeys(later), **overrides})


async def test_a_run_on_message_starts_the_booking_with_every_fact(domain):
    text = "俺叫孔繁荣，退伍兵，手机15965321234，家在即墨，想下周三上午去报个到"
    t = turn(text, None, {}, intent="book_appointment")
    events, messages = await run(A.ValidateAppointmentForm(), t, domain)
    values = slot_events(events)
    assert values["veteran_category"] == "退役士兵"
    assert values["district"] == "即墨区" and values["centre_id"] == "jimo"
    assert values["appointment_time"].startswith("2026-12-09T")
    assert int(values["appointment_time"][11:13]) < 12  # 上午
    assert values["person_name"] == "孔繁荣"
    assert values["mobile"] == "15965321234"
    assert next_requested(events, t, domain, FORM) == "id_number"
    assert "utter_invalid_person_name" not in responses(messages)


async def test_an_id_in_the_first_message_is_kept_encrypted(domain):
    t = turn(f"我要报到 身份证{OTHER_ID} 伤残军人 胶州的", None, {}, intent="book_appointment")
    events, _ = await run(A.ValidateAppointmentForm(), t, domain)
    token = slot_events(events)["id_number"]
    assert token != OTHER_ID and people.decrypt_id(token) == OTHER_ID
    assert all(OTHER_ID not in str(e.get("value")) for e in events)


async def test_facts_given_at_another_question_are_all_kept(domain):
    t = turn("复员军人 城阳的 名字叫鲁长江 电话15166881234", "veteran_category", {})
    events, messages = await run(A.ValidateAppointmentForm(), t, domain)
    values = slot_events(events)
    assert values["veteran_category"] == "复员军人"
    assert values["district"] == "城阳区"
    assert values["person_name"] == "鲁长江"
    assert values["mobile"] == "15166881234"
    assert next_requested(events, t, domain, FORM) == "appointment_time"
    assert messages == []


async def test_phone_corrected_at_the_summary_shows_the_summary_again(domain):
    t = turn(
        "不好意思 刚才电话输错了，应该是15012348888",
        "appointment_confirmed",
        before("appointment_confirmed"),
    )
    events, _ = await run(A.ValidateAppointmentForm(), t, domain)
    values = slot_events(events)
    assert values["mobile"] == "15012348888"
    assert values["appointment_confirmed"] is None
    assert next_requested(events, t, domain, FORM) == "appointment_confirmed"


async def test_name_corrected_at_the_summary(domain):
    t = turn("名字写错了，是王建军", "appointment_confirmed", before("appointment_confirmed"))
    events, _ = await run(A.ValidateAppointmentForm(), t, domain)
    values = slot_events(events)
    assert values["person_name"] == "王建军"
    assert values.get("mobile", MOBILE) == MOBILE
    assert next_requested(events, t, domain, FORM) == "appointment_confirmed"


async def test_part_of_day_corrected_keeps_the_day(domain):
    slots = before("appointment_confirmed", appointment_time="2026-12-02T09:00")
    t = turn("时间改成下午吧", "appointment_confirmed", slots)
    events, _ = await run(A.ValidateAppointmentForm(), t, domain)
    start = slot_events(events)["appointment_time"]
    assert start.startswith("2026-12-02T") and int(start[11:13]) >= 13
    assert next_requested(events, t, domain, FORM) == "appointment_confirmed"


async def test_hour_corrected_keeps_the_day(domain):
    slots = before("appointment_confirmed", appointment_time="2026-12-02T09:00")
    t = turn("改到十点半吧，九点太早了", "appointment_confirmed", slots)
    events, _ = await run(A.ValidateAppointmentForm(), t, domain)
    assert slot_events(events)["appointment_time"] == "2026-12-02T10:30"


async def test_district_corrected_moves_the_same_time_to_the_new_centre(domain):
    slots = before("appointment_confirmed", appointment_time="2026-12-02T09:00")
    t = turn("弄错了 俺户口在崂山 不是市南", "appointment_confirmed", slots)
    events, _ = await run(A.ValidateAppointmentForm(), t, domain)
    values = slot_events(events)
    assert values["district"] == "崂山区" and values["centre_id"] == "laoshan"
    assert values["appointment_time"] == "2026-12-02T09:00"
    assert next_requested(events, t, domain, FORM) == "appointment_confirmed"


async def test_phone_corrected_at_the_id_question_is_not_an_id_error(domain):
    t = turn("不对不对 手机号错了 是15012348888", "id_number", before("id_number"), candidate=False)
    events, messages = await run(A.ValidateAppointmentForm(), t, domain)
    assert slot_events(events)["mobile"] == "15012348888"
    assert not any(r.startswith("utter_invalid_id") for r in responses(messages))
    assert "utter_fact_corrected" in responses(messages)
    assert next_requested(events, t, domain, FORM) == "id_number"


async def test_name_corrected_at_the_phone_question(domain):
    slots = before("mobile", person_name="刘凤英")
    t = turn("名字打错了 是刘凤莲 电话15012348888", "mobile", slots)
    events, messages = await run(A.ValidateAppointmentForm(), t, domain)
    values = slot_events(events)
    assert values["person_name"] == "刘凤莲"
    assert values["mobile"] == "15012348888"
    assert next_requested(events, t, domain, FORM) == "id_number"


async def test_a_correction_at_the_name_question_is_not_stored_as_the_name(domain):
    slots = before("person_name", mobile=None)
    t = turn("等会", "person_name", slots)
    events, messages = await run(A.ValidateAppointmentForm(), t, domain)
    assert slot_events(events)["person_name"] is None
    assert responses(messages) == ["utter_person_name_wait"]


async def test_gibberish_is_not_a_name_but_a_filler_is_stripped(domain):
    t = turn("aaaasss", "person_name", before("person_name"))
    events, messages = await run(A.ValidateAppointmentForm(), t, domain)
    assert slot_events(events)["person_name"] is None
    assert responses(messages) == ["utter_invalid_person_name"]
    t = turn("嗯 欧阳建华", "person_name", before("person_name"))
    events, messages = await run(A.ValidateAppointmentForm(), t, domain)
    assert slot_events(events)["person_name"] == "欧阳建华"
    assert messages == []


async def test_landline_and_spoken_numbers_are_contact_numbers(domain):
    for text, number in (
        ("我没有手机，家里座机0532-85861234", "053285861234"),
        ("幺三九 六四二三 零零八八", "13964230088"),
    ):
        t = turn(text, "mobile", before("mobile"))
        events, messages = await run(A.ValidateAppointmentForm(), t, domain)
        assert slot_events(events)["mobile"] == number
        assert messages == []


async def test_booking_with_a_landline_says_contact_comes_by_call(domain, session):
    slots = state("booking_ready", mobile="053285861234")
    _, messages = await run(A.ActionBookAppointment(), tracker("/affirm", "affirm", slots), domain)
    sent = responses(messages)
    assert sent[0] == "utter_appointment_booked"
    assert "utter_contact_by_phone_call" in sent


async def test_an_unchanged_answer_is_not_a_correction(domain):
    slots = before("discharge_date")
    t = turn("上个月20号批的", "discharge_date", slots)
    events, messages = await run(A.ValidateAppointmentForm(), t, domain)
    values = slot_events(events)
    assert values["discharge_date"] == "2026-11-20"
    assert "appointment_time" not in values
    assert "utter_fact_corrected" not in responses(messages)
    assert ID_NUMBER  # the state's ID is untouched
    assert "id_number" not in values


def test_month_parts_for_the_discharge_day():
    from datetime import date

    today = date(2026, 12, 1)
    assert A.month_part("上个月底", today) == date(2026, 11, 30)
    assert A.month_part("上上个月初批的", today) == date(2026, 10, 1)
    assert A.month_part("这个月底", today) == today  # never in the future
    assert A.month_part("上个月20号", today) is None


async def test_a_booking_told_as_a_statement_starts_the_booking_form(domain):
    text = "我叫孔繁荣，退伍兵，电话15965321234，住即墨，想下周三上午去报到"
    events, messages = await run(A.ActionStatement(), tracker(text, "inform", {}), domain)
    assert [e["name"] for e in events if e["event"] == "followup"] == ["appointment_form"]
    assert messages == []


async def test_other_statements_get_anything_else(domain):
    for text in ("我是伤残军人", "我约的报到在城阳 确认码K7QX3M", "谢谢 我住城阳"):
        events, messages = await run(A.ActionStatement(), tracker(text, "inform", {}), domain)
        assert events == []
        assert responses(messages) == ["utter_anything_else"]


async def test_a_second_statement_in_a_row_gets_the_tasks_not_the_same_answer(domain):
    """ "黄岛", then a phone number: both got "还有什么可以帮您的吗？"."""
    t = tracker("13805321234", "inform", {})
    t.events.insert(
        -1,
        {
            "event": "bot",
            "text": "还有什么可以帮您的吗？",
            "metadata": {"utter_action": "utter_anything_else"},
        },
    )
    _, messages = await run(A.ActionStatement(), t, domain)
    assert responses(messages) == ["utter_which_task"]
    payloads = [b["payload"] for b in domain["responses"]["utter_which_task"][0]["buttons"]]
    assert "/request_human" in payloads and "/book_appointment" in payloads


async def test_the_denied_district_entity_does_not_win(domain):
    slots = before("appointment_confirmed", appointment_time="2026-12-02T09:00")
    entities = [
        {"entity": "district", "value": "市北区"},
        {"entity": "district", "value": "市南区"},
    ]
    t = tracker(
        "搞错了，不是市北，俺住市南",
        "inform",
        {**slots, "district": "市北区", "centre_id": "shibei"},
        entities=entities,
        form=FORM,
        requested_slot="appointment_confirmed",
        candidates={"appointment_confirmed": "搞错了，不是市北，俺住市南", "district": "市北区"},
    )
    events, _ = await run(A.ValidateAppointmentForm(), t, domain)
    assert slot_events(events)["district"] == "市南区"


def test_a_statement_of_who_where_and_when_starts_a_booking_without_the_word():
    from datetime import date

    from bot.core import facts

    today = date(2026, 11, 30)

    def starts(text: str) -> bool:
        return A.starts_a_booking(text, facts.find(text, today=today))

    assert starts("复员军人 赵长江 13853269090 城阳区 下周三上午")
    assert starts("俺姓高，叫高守田，复员军人，约下周三上午，在平度")
    assert starts("想去报到 我叫刘洋")
    # a day alone, or one fact with a day, is not enough; checks and changes never start one
    assert not starts("下周三上午")
    assert not starts("城阳区 下周三上午")
    assert not starts("我约的下周三上午 城阳区 电话13853269090 查一下")
