"""Finding 2 (ownership): a confirmation code alone reaches no one else's booking.

Before: a crafted call cancelled someone else's booking knowing only its 6-character code. Now
another chat's code in a cancel / reschedule / check request is ignored (only this chat's own
bookings are searched); reaching a booking from another chat needs the code **and** the mobile
given at booking, and only an action can point the cancel step at a booking.
"""

from __future__ import annotations

import json

from actions import appointment_changes as C
from actions import appointments as A
from bot.core import appointments
from tests.actions.trackers import MOBILE, run, slot_events, state, tracker

OWNER, STRANGER = "tg-owner", "web-stranger"


async def _booked_code(domain) -> str:
    slots = state("booking_ready")
    _, messages = await run(
        A.ActionBookAppointment(), tracker("/affirm", "affirm", slots, sender=OWNER), domain
    )
    return messages[0]["code"]


async def test_a_code_alone_cannot_reach_another_chats_booking(domain, session):
    code = await _booked_code(domain)
    for intent in ("cancel_appointment", "reschedule_appointment", "check_appointment"):
        text = f"/{intent}" + json.dumps({"appointment_code": code})
        events, messages = await run(
            C.ActionLookupAppointment(), tracker(text, intent, sender=STRANGER), domain
        )
        values = slot_events(events)
        assert values["appointment_next"] == "lookup", (intent, values)  # asks code + mobile
        assert "appointment_ref" not in values and messages == []


async def test_the_code_with_a_wrong_mobile_finds_nothing(domain, session):
    code = await _booked_code(domain)
    slots = {"appointment_operation": "cancel", "lookup_code": code, "mobile": "13900000000"}
    t = tracker(
        "13900000000", "inform", slots, sender=STRANGER, latest_action="appointment_lookup_form"
    )
    events, messages = await run(C.ActionLookupAppointment(), t, domain)
    assert "appointment_ref" not in slot_events(events)
    assert [m.get("response") for m in messages] == ["utter_lookup_not_found"]
    session.expire_all()
    assert appointments.get_by_code(session, code).status == appointments.BOOKED


async def test_the_code_with_the_booking_mobile_may_cancel(domain, session):
    code = await _booked_code(domain)
    slots = {"appointment_operation": "cancel", "lookup_code": code, "mobile": f"+86 {MOBILE}"}
    t = tracker(MOBILE, "inform", slots, sender=STRANGER, latest_action="appointment_lookup_form")
    events, _ = await run(C.ActionLookupAppointment(), t, domain)
    values = slot_events(events)
    assert values["appointment_next"] == "confirm_cancel" and values["appointment_ref"] == code


def test_only_actions_can_point_the_cancel_step_at_a_booking(domain):
    """appointment_ref (the booking cancel / reschedule act on) has no entity or text mapping,
    so a user message such as /affirm{"appointment_ref": "K7P2QX"} cannot set it."""
    mappings = domain["slots"]["appointment_ref"]["mappings"]
    assert [m["type"] for m in mappings] == ["custom"]
