"""A complaint about being asked again: sorry, what is recorded (masked), never a stop."""

from __future__ import annotations

from actions import repeats
from tests.actions.trackers import MOBILE, run, state, tracker, user_event

COMPLAINT = "怎么又问 刚才不是填了吗"


async def test_mid_booking_the_recap_shows_what_was_given_masked(domain):
    slots = state("booking_ready", appointment_confirmed=None, discharge_date=None)
    t = tracker(
        COMPLAINT,
        "complain_repeated",
        slots,
        form="appointment_form",
        requested_slot="discharge_date",
    )
    events, messages = await run(repeats.ActionAcknowledgeRepeat(), t, domain)
    assert events == []  # nothing is cleared: the form goes on with everything it had
    (message,) = messages
    assert message["response"] == "utter_sorry_for_repeating_recap"
    recap = message["recap"]
    for given in ("退役士兵", "市南区", "12月2日（周三）14:00", "王建国", "138****5678"):
        assert given in recap
    assert MOBILE not in recap
    assert "3702" in recap and "19800101" not in recap  # the ID masked, never in clear


async def test_a_long_free_text_is_shortened_in_the_recap(domain):
    slots = state("wish_ready", wish_consent=None)
    slots["wish_description"] = "想要一台助听器，耳朵背了，孩子们都在外地打工，平时听电话很费劲"
    t = tracker(COMPLAINT, "complain_repeated", slots, form="wish_form", requested_slot="mobile")
    _, (message,) = await run(repeats.ActionAcknowledgeRepeat(), t, domain)
    assert "想要一台助听器" in message["recap"]
    assert "很费劲" not in message["recap"] and "…" in message["recap"]
    assert "生活用品" in message["recap"] and "李沧区" in message["recap"]


async def test_nothing_recorded_yet_says_the_answer_has_not_arrived(domain):
    t = tracker(
        COMPLAINT,
        "complain_repeated",
        {},
        form="appointment_form",
        requested_slot="veteran_category",
    )
    _, (message,) = await run(repeats.ActionAcknowledgeRepeat(), t, domain)
    assert message["response"] == "utter_sorry_for_repeating_in_form"


async def test_outside_a_form_sorry_and_how_to_go_on(domain):
    t = tracker("我不是说过了吗", "complain_repeated")
    _, (message,) = await run(repeats.ActionAcknowledgeRepeat(), t, domain)
    assert message["response"] == "utter_sorry_for_repeating"
    assert "转人工" in repeats.fc.domain_text(domain, "utter_sorry_for_repeating")


def test_every_recap_slot_is_a_slot_of_some_form(domain):
    asked = {slot for form in domain["forms"].values() for slot in form["required_slots"]}
    assert set(repeats.fc.SHOWN) <= asked


async def test_a_second_complaint_in_a_row_offers_a_person_not_the_same_recap(domain):
    slots = state("booking_started")
    t = tracker(
        "说过了",
        "complain_repeated",
        slots,
        form="appointment_form",
        requested_slot="id_number",
        history=[],
    )
    first = await run(repeats.ActionAcknowledgeRepeat(), t, domain)
    t.events.insert(0, user_event(COMPLAINT, "complain_repeated"))
    second = await run(repeats.ActionAcknowledgeRepeat(), t, domain)
    assert first[1][0]["response"] == "utter_sorry_for_repeating_recap"
    assert second[1][0]["response"] == "utter_sorry_for_repeating_again"
    buttons = domain["responses"]["utter_sorry_for_repeating_again"][0]["buttons"]
    assert [b["payload"] for b in buttons] == ["/request_human"]
