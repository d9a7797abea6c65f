"""Issue #10 patterns 5–7: typed yes/no at the cancel question, dates the centre cannot take
(why, the window, the nearest free slots) and look-ups by code from any chat (code + phone or
the chat that booked, wrong pairs limited per code)."""

from __future__ import annotations

import pytest

from actions import appointment_changes as C
from actions import appointments as A
from actions import forms_common as fc
from actions import wishes as W
from bot.core import wishes
from tests.actions.test_appointment_actions import booked_code
from tests.actions.trackers import (
    MOBILE,
    responses,
    run,
    slot_events,
    state,
    tracker,
)

OTHER_CHAT = "web-elsewhere"


def form_turn(requested, text, intent="inform", slots=None, form="appointment_form"):
    return tracker(
        text,
        intent,
        {**state("booking_started"), **(slots or {})} if form == "appointment_form" else slots,
        form=form,
        requested_slot=requested,
        candidates={requested: text},
    )


# --------------------------------------------------------------------------- typed yes / no


@pytest.mark.parametrize(
    "text, intent, expected",
    [
        ("对，取消吧", "cancel", True),
        ("是的 取消", "affirm", True),
        ("取消", "cancel", True),
        ("確認取消", "cancel_appointment", True),
        ("行", "affirm", True),
        ("嗯嗯", "affirm", True),
        ("不取消了 留着吧", "deny", False),
        ("算了", "cancel", False),
        ("不用了", "deny", False),
    ],
)
async def test_typed_answers_at_the_cancel_question(domain, text, intent, expected):
    t = form_turn(
        "cancel_confirmed",
        text,
        intent,
        {"appointment_ref": "K7QX3M"},
        form="appointment_cancel_form",
    )
    events, messages = await run(C.ValidateAppointmentCancelForm(), t, domain)
    assert slot_events(events)["cancel_confirmed"] is expected
    assert messages == []


@pytest.mark.parametrize(
    "text, expected",
    [
        ("中，就这么着吧", True),
        ("好了没问题", True),
        ("没问题", True),
        ("可以，公开吧", True),
        ("對", True),
        ("不对", False),
        ("不公开", False),
        ("算了吧", False),
    ],
)
def test_yes_no_words(text, expected):
    assert fc.yes_no(tracker(text, "inform")) is expected


# --------------------------------------------------------------------------- dates


async def test_beyond_the_window_says_the_window(domain):
    t = form_turn("appointment_time", "三个月以后吧，明年开春")
    events, messages = await run(A.ValidateAppointmentForm(), t, domain)
    assert slot_events(events)["appointment_time"] is None
    assert responses(messages) == ["utter_time_too_far", "utter_time_alternatives"]
    assert messages[0]["days"] == 30 and messages[0]["last"] == "2026年12月31日"
    text = fc.domain_text(
        domain,
        "utter_time_too_far",
        **{k: v for k, v in messages[0].items() if k in ("date", "days", "last")},
    )
    assert "30天以内" in text and "{" not in text


async def test_past_day_says_it_has_passed(domain):
    t = form_turn("appointment_time", "上周一上午")
    _, messages = await run(A.ValidateAppointmentForm(), t, domain)
    assert responses(messages)[0] == "utter_time_past"
    assert messages[0]["date"] == "2026年11月23日" and messages[0]["today"] == "2026年12月1日"


async def test_earlier_today_names_the_time_not_the_day(domain):
    t = form_turn("appointment_time", "今天上午9点")
    _, messages = await run(A.ValidateAppointmentForm(), t, domain)
    assert responses(messages)[0] == "utter_time_past"
    assert messages[0]["date"] == "12月1日（周二）09:00"


async def test_new_years_day_2027_is_a_holiday(domain, monkeypatch):
    from datetime import datetime

    monkeypatch.setattr(fc, "local_now", lambda: datetime(2026, 12, 20, 10, 0))
    t = form_turn("appointment_time", "元旦那天上午")
    _, messages = await run(A.ValidateAppointmentForm(), t, domain)
    assert responses(messages)[0] == "utter_time_closed_holiday"


@pytest.mark.parametrize(
    "text, response",
    [
        ("过几天吧 看哪天人少", "utter_time_soonest"),
        ("嗯嗯那个啥", "utter_time_not_understood_soonest"),
    ],
)
async def test_no_day_offers_the_soonest_free_slots(domain, text, response):
    t = form_turn("appointment_time", text)
    _, messages = await run(A.ValidateAppointmentForm(), t, domain)
    assert responses(messages) == [response]
    titles = [b["title"] for b in messages[0]["buttons"]]
    assert len(titles) == 3 and titles[0].startswith("12月1日（周二）")
    assert len({title.split("（")[0] for title in titles}) == 3  # three different days


def test_every_date_response_is_filled_by_what_the_actions_pass(domain):
    for name, values in {
        "utter_time_too_far": {"date": "x", "days": 30, "last": "y"},
        "utter_time_past": {"date": "x", "today": "y"},
        "utter_time_closed_weekend": {"date": "x"},
    }.items():
        assert "{" not in fc.domain_text(domain, name, **values)


# --------------------------------------------------------------------------- look-ups


async def test_code_in_the_first_message_asks_only_for_the_phone(domain, session):
    code = await booked_code(domain, session, sender=OTHER_CHAT)
    t = tracker(f"确认码 {code.lower()} 我约的是哪天", "check_appointment")
    events, messages = await run(C.ActionLookupAppointment(), t, domain)
    assert slot_events(events) == {
        "appointment_operation": "check",
        "lookup_code": code,
        "appointment_next": "lookup",
    }
    assert messages == []


async def test_code_and_phone_in_one_message_answer_at_once(domain, session):
    code = await booked_code(domain, session, sender=OTHER_CHAT)
    t = tracker(f"查预约 确认码{code} 手机{MOBILE}", "check_appointment")
    events, messages = await run(C.ActionLookupAppointment(), t, domain)
    assert responses(messages) == ["utter_appointment_details"] and messages[0]["code"] == code
    assert slot_events(events)["appointment_next"] == "done"


async def test_code_with_the_wrong_phone_is_not_found(domain, session):
    code = await booked_code(domain, session, sender=OTHER_CHAT)
    t = tracker(f"码是 {code} 电话13605329876", "check_appointment")
    _, messages = await run(C.ActionLookupAppointment(), t, domain)
    assert responses(messages) == ["utter_lookup_not_found"]


async def test_the_chat_that_booked_needs_no_phone(domain, session):
    code = await booked_code(domain, session)
    t = tracker(f"帮我查查{code}这个预约是几号", "check_appointment")
    _, messages = await run(C.ActionLookupAppointment(), t, domain)
    assert responses(messages) == ["utter_appointment_details"] and messages[0]["code"] == code


async def test_wrong_pairs_lock_the_code(domain, session, monkeypatch):
    monkeypatch.setenv("RJ_LOOKUP_RATE_LIMIT", "2/3600")
    code = await booked_code(domain, session, sender=OTHER_CHAT)
    for _ in range(2):
        t = tracker(f"{code} 13605329876", "check_appointment")
        _, messages = await run(C.ActionLookupAppointment(), t, domain)
        assert responses(messages) == ["utter_lookup_not_found"]
    t = tracker(f"{code} {MOBILE}", "cancel_appointment")  # even the right phone, for now
    events, messages = await run(C.ActionLookupAppointment(), t, domain)
    assert responses(messages) == ["utter_lookup_locked"]
    assert slot_events(events)["appointment_next"] == "done"
    text = fc.domain_text(domain, "utter_lookup_locked")
    assert "对不上" in text and "转人工" in text


async def test_code_and_phone_typed_at_the_code_question(domain):
    t = form_turn(
        "lookup_code", "码是 K7QX3M 电话13605329876", slots={}, form="appointment_lookup_form"
    )
    events, messages = await run(C.ValidateAppointmentLookupForm(), t, domain)
    values = slot_events(events)
    assert values["lookup_code"] == "K7QX3M" and values["mobile"] == "13605329876"
    assert messages == []


async def _wish(session, sender=OTHER_CHAT):
    from datetime import datetime

    wish = wishes.submit(
        session,
        sender_id=sender,
        category="维修",
        description="屋顶漏水想找人修",
        mobile=MOBILE,
        now=datetime(2026, 11, 20, 9, 0),
    )
    session.commit()
    return wish.code


async def test_wish_by_number_from_another_chat_asks_for_the_phone(domain, session):
    code = await _wish(session)
    t = tracker(f"我上个月许的微心愿，编号{code}，现在到哪一步了", "check_wish")
    events, messages = await run(W.ActionCheckWish(), t, domain)
    assert messages == []
    assert [e["name"] for e in events if e["event"] == "followup"] == ["wish_lookup_form"]
    assert slot_events(events) == {"lookup_code": code}
    # the form's answer, then the action again
    t = tracker(
        MOBILE, "inform", {"lookup_code": code, "mobile": MOBILE}, latest_action="wish_lookup_form"
    )
    events, messages = await run(W.ActionCheckWish(), t, domain)
    assert code in messages[0]["text"] and "已提交" in messages[0]["text"]
    assert slot_events(events) == {"lookup_code": None, "mobile": None}


async def test_wish_by_number_with_a_wrong_phone(domain, session):
    code = await _wish(session)
    t = tracker(f"编号{code} 电话13605329876 心愿怎么样了", "check_wish")
    _, messages = await run(W.ActionCheckWish(), t, domain)
    assert responses(messages) == ["utter_wish_lookup_not_found"]


async def test_own_wish_by_number_needs_no_phone(domain, session):
    code = await _wish(session, sender="tg-4242")
    t = tracker(f"{code}这个心愿到哪一步了", "check_wish")
    _, messages = await run(W.ActionCheckWish(), t, domain)
    assert code in messages[0]["text"]


# --------------------------------------------------------------------------- a wish said at once


@pytest.mark.parametrize(
    "text, description, category",
    [
        ("我要许愿 想找人帮忙修修家里漏水的屋顶", True, "维修"),
        ("俺娘想要个收音机 这个能许愿吗", True, "生活用品"),
        ("想许个微心愿", False, None),
        ("我要许愿", False, None),
    ],
)
async def test_the_message_that_starts_a_wish_may_say_it(domain, text, description, category):
    """Prefilled from the submit_wish message (requested_slot not yet set): kept only when it
    says a wish, silently dropped otherwise (the form then asks)."""
    t = tracker(text, "submit_wish", {}, form="wish_form", candidates={"wish_description": text})
    events, messages = await run(W.ValidateWishForm(), t, domain)
    values = slot_events(events)
    assert (values["wish_description"] == text) is description
    assert values.get("wish_category") == category
    assert messages == []
