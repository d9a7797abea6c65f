"""Booking, then check / cancel / reschedule — against the real capabilities and database."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from actions import appointment_changes as C
from actions import appointments as A
from bot.core import appointments, outbox
from tests.actions.test_appointment_form import fill_slot, valid_id
from tests.actions.trackers import (
    ID_NUMBER,
    MOBILE,
    SENDER,
    responses,
    run,
    slot_events,
    state,
    tracker,
)


async def book(domain, session, **overrides):
    slots = state("booking_ready", **overrides)
    events, messages = await run(
        A.ActionBookAppointment(), tracker("/affirm", "affirm", slots), domain
    )
    return events, messages


async def test_booking_happy_path(domain, session):
    events, messages = await book(domain, session)
    assert responses(messages) == [
        "utter_appointment_booked",
        "utter_reporting_documents",
        "utter_reporting_days_left",
        "utter_appointment_reminder",
    ]
    booked = messages[0]
    assert booked["centre"] == "市南区退役军人服务中心" and "示例" not in booked["address"]
    assert booked["address"] == appointments.get_centre("shinan").address_text  # not configured
    assert booked["when"] == "12月2日（周三）14:00"
    assert "退役证明" in messages[1]["documents"] and "退役军人安置条例" in messages[1]["source"]
    # discharged 2026-11-20, 30 days → 2026-12-20, 19 days from 2026-12-01
    assert messages[2]["days_left"] == 19 and messages[2]["deadline"] == "2026年12月20日"
    assert messages[3]["remind_at"] == "12月1日（周二）18:00"
    # in the database, with the ID encrypted and the reminder in the outbox
    appointment = session.execute(select(appointments.Appointment)).scalar_one()
    assert appointment.code == booked["code"] and appointment.sender_id == SENDER
    assert appointment.start == datetime(2026, 12, 2, 14, 0) and appointment.mobile == MOBILE
    assert ID_NUMBER not in appointment.id_cipher and appointment.id_number() == ID_NUMBER
    reminder = outbox.get_by_dedupe_key(session, appointments.reminder_key(appointment.id))
    assert reminder.kind == "reminder" and reminder.recipient == SENDER
    assert booked["code"] in reminder.text
    # personal data leaves the tracker
    cleared = slot_events(events)
    for slot in ("person_name", "mobile", "id_number", "appointment_time", "appointment_confirmed"):
        assert cleared[slot] is None
    assert cleared["appointment_ref"] == booked["code"]


async def test_booking_without_a_deadline_or_push_channel(domain, session):
    slots = state("booking_ready", veteran_category="转业军官", discharge_date=None)
    _, messages = await run(
        A.ActionBookAppointment(), tracker("/affirm", "affirm", slots, sender="api-1"), domain
    )
    assert responses(messages) == ["utter_appointment_booked", "utter_reporting_documents"]


async def test_deadline_passed(domain, session):
    _, messages = await book(domain, session, discharge_date="2026-10-01")
    assert "utter_reporting_deadline_passed" in responses(messages)


async def test_slot_taken_meanwhile_goes_back_to_the_time_question(domain, session):
    fill_slot(session, datetime(2026, 12, 2, 14, 0))
    events, messages = await book(domain, session)
    assert responses(messages) == ["utter_time_full", "utter_time_alternatives"]
    assert {"event": "followup", "name": "appointment_form"} in [
        {k: e[k] for k in ("event", "name")} for e in events if e["event"] == "followup"
    ]
    assert slot_events(events)["appointment_time"] is None
    assert (
        session.execute(
            select(appointments.Appointment).where(appointments.Appointment.sender_id == SENDER)
        ).first()
        is None
    )


async def test_one_active_booking_per_person(domain, session):
    await book(domain, session)
    events, messages = await book(domain, session, appointment_time="2026-12-03T09:00")
    assert responses(messages) == ["utter_appointment_already_booked"]
    assert slot_events(events)["id_number"] is None


# ------------------------------------------------------------------ check / cancel / reschedule


async def booked_code(domain, session, sender=SENDER) -> str:
    slots = state("booking_ready")
    _, messages = await run(
        A.ActionBookAppointment(), tracker("/affirm", "affirm", slots, sender=sender), domain
    )
    return messages[0]["code"]


async def test_check_own_booking(domain, session):
    code = await booked_code(domain, session)
    events, messages = await run(
        C.ActionLookupAppointment(), tracker("我约的哪天", "check_appointment"), domain
    )
    assert slot_events(events)["appointment_next"] == "done"
    assert messages[0]["response"] == "utter_appointment_details"
    assert messages[0]["code"] == code and messages[0]["status"] == "已预约"


async def test_nothing_in_this_chat_asks_for_the_code(domain, session):
    await booked_code(domain, session, sender="tg-other")
    events, messages = await run(
        C.ActionLookupAppointment(), tracker("取消预约", "cancel_appointment"), domain
    )
    assert slot_events(events) == {"appointment_operation": "cancel", "appointment_next": "lookup"}
    assert messages == []


async def test_lookup_by_code_and_mobile(domain, session):
    code = await booked_code(domain, session, sender="tg-other")
    form = C.ValidateAppointmentLookupForm()
    t = tracker(
        code.lower(),
        "inform",
        {},
        form="appointment_lookup_form",
        requested_slot="lookup_code",
        candidates={"lookup_code": code.lower()},
    )
    events, _ = await run(form, t, domain)
    assert slot_events(events)["lookup_code"] == code
    slots = {"appointment_operation": "check", "lookup_code": code, "mobile": MOBILE}
    t = tracker(MOBILE, "inform", slots, latest_action="appointment_lookup_form")
    events, messages = await run(C.ActionLookupAppointment(), t, domain)
    assert messages[0]["code"] == code
    values = slot_events(events)
    assert (
        values["appointment_next"] == "done"
        and values["lookup_code"] is None
        and values["mobile"] is None
    )


async def test_lookup_with_the_wrong_mobile(domain, session):
    code = await booked_code(domain, session, sender="tg-other")
    slots = {"appointment_operation": "check", "lookup_code": code, "mobile": "13900000000"}
    t = tracker("13900000000", "inform", slots, latest_action="appointment_lookup_form")
    events, messages = await run(C.ActionLookupAppointment(), t, domain)
    assert responses(messages) == ["utter_lookup_not_found"]


async def test_invalid_lookup_code(domain):
    t = tracker(
        "好像是1234",
        "inform",
        {},
        form="appointment_lookup_form",
        requested_slot="lookup_code",
        candidates={"lookup_code": "好像是1234"},
    )
    events, messages = await run(C.ValidateAppointmentLookupForm(), t, domain)
    assert slot_events(events)["lookup_code"] is None
    assert responses(messages) == ["utter_invalid_lookup_code"]


async def test_cancel_asks_then_cancels(domain, session):
    code = await booked_code(domain, session)
    events, _ = await run(
        C.ActionLookupAppointment(), tracker("取消预约", "cancel_appointment"), domain
    )
    values = slot_events(events)
    assert values["appointment_next"] == "confirm_cancel" and values["appointment_ref"] == code
    _, messages = await run(
        C.ActionAskCancelConfirmed(),
        tracker("取消预约", "cancel_appointment", {"appointment_ref": code}),
        domain,
    )
    assert messages[0]["response"] == "utter_ask_cancel_confirmed" and messages[0]["code"] == code
    t = tracker(
        "/affirm",
        "affirm",
        {"appointment_ref": code},
        form="appointment_cancel_form",
        requested_slot="cancel_confirmed",
        candidates={"cancel_confirmed": "/affirm"},
    )
    events, _ = await run(C.ValidateAppointmentCancelForm(), t, domain)
    assert slot_events(events)["cancel_confirmed"] is True
    events, messages = await run(
        C.ActionCancelAppointment(),
        tracker("/affirm", "affirm", {"appointment_ref": code, "cancel_confirmed": True}),
        domain,
    )
    assert responses(messages) == ["utter_appointment_cancelled"]
    session.expire_all()
    appointment = appointments.get_by_code(session, code)
    assert appointment.status == appointments.CANCELLED
    assert (
        outbox.get_by_dedupe_key(session, appointments.reminder_key(appointment.id)).status
        == outbox.CANCELLED
    )


async def test_cancel_declined_keeps_the_booking(domain, session):
    code = await booked_code(domain, session)
    _, messages = await run(
        C.ActionCancelAppointment(),
        tracker("/deny", "deny", {"appointment_ref": code, "cancel_confirmed": False}),
        domain,
    )
    assert responses(messages) == ["utter_appointment_kept"]
    assert appointments.get_by_code(session, code).status == appointments.BOOKED


async def test_reschedule(domain, session):
    code = await booked_code(domain, session)
    events, _ = await run(
        C.ActionLookupAppointment(), tracker("改到周四", "reschedule_appointment"), domain
    )
    values = slot_events(events)
    assert values["appointment_next"] == "ask_time" and values["centre_id"] == "shinan"
    slots = {"appointment_ref": code, "centre_id": "shinan"}
    _, messages = await run(
        A.ActionAskAppointmentTime(),
        tracker("改约", "reschedule_appointment", slots, form="reschedule_form"),
        domain,
    )
    assert messages[0]["response"] == "utter_ask_new_appointment_time"
    assert messages[0]["current"] == "12月2日（周三）14:00"
    # same slot → asked again; a new one → taken
    t = tracker(
        "12月2号下午2点",
        "inform",
        slots,
        form="reschedule_form",
        requested_slot="appointment_time",
        candidates={"appointment_time": "12月2号下午2点"},
    )
    events, messages = await run(C.ValidateRescheduleForm(), t, domain)
    assert slot_events(events)["appointment_time"] is None
    assert responses(messages) == ["utter_reschedule_same_slot"]
    t = tracker(
        "12月3号上午10点",
        "inform",
        slots,
        form="reschedule_form",
        requested_slot="appointment_time",
        candidates={"appointment_time": "12月3号上午10点"},
    )
    events, _ = await run(C.ValidateRescheduleForm(), t, domain)
    assert slot_events(events)["appointment_time"] == "2026-12-03T10:00"
    events, messages = await run(
        C.ActionRescheduleAppointment(),
        tracker("12月3号上午10点", "inform", {**slots, "appointment_time": "2026-12-03T10:00"}),
        domain,
    )
    assert responses(messages) == ["utter_appointment_rescheduled", "utter_appointment_reminder"]
    assert messages[1]["remind_at"] == "12月2日（周三）18:00"
    session.expire_all()
    assert appointments.get_by_code(session, code).start == datetime(2026, 12, 3, 10, 0)


async def test_reschedule_to_a_full_slot_offers_alternatives(domain, session):
    code = await booked_code(domain, session)
    fill_slot(session, datetime(2026, 12, 4, 9, 0), count=3)
    slots = {"appointment_ref": code, "centre_id": "shinan", "appointment_time": "2026-12-04T09:00"}
    events, messages = await run(
        C.ActionRescheduleAppointment(), tracker("好", "affirm", slots), domain
    )
    assert responses(messages) == ["utter_time_full", "utter_time_alternatives"]
    assert any(e["event"] == "followup" and e["name"] == "reschedule_form" for e in events)
    assert appointments.get_by_code(session, code).start == datetime(2026, 12, 2, 14, 0)


async def test_several_bookings_ask_which_one(domain, session):
    await booked_code(domain, session)
    slots = state("booking_ready", id_number=None, appointment_time="2026-12-03T09:00")
    from bot.core import people

    slots["id_number"] = people.encrypt_id(valid_id("19700101", "555"))
    await run(A.ActionBookAppointment(), tracker("/affirm", "affirm", slots), domain)
    events, messages = await run(
        C.ActionLookupAppointment(), tracker("取消预约", "cancel_appointment"), domain
    )
    assert responses(messages) == ["utter_which_appointment"]
    payloads = [b["payload"] for b in messages[0]["buttons"]]
    assert len(payloads) == 2 and all(
        p.startswith('/cancel_appointment{"appointment_code": ') for p in payloads
    )
    chosen = payloads[1][len("/cancel_appointment") :]
    import json

    code = json.loads(chosen)["appointment_code"]
    t = tracker(
        payloads[1], "cancel_appointment", entities=[{"entity": "appointment_code", "value": code}]
    )
    events, _ = await run(C.ActionLookupAppointment(), t, domain)
    assert slot_events(events)["appointment_ref"] == code
