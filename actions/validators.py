"""Validators that several forms share: one answer, one check, whichever form asks it.

Each returns the slot values to set (None: the question is asked again after the reason was
sent). Feature modules call these from their ``validate_<slot>`` methods; a feature module never
imports another feature module (tests/actions/test_module_boundaries.py).
"""

from __future__ import annotations

import unicodedata
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import forms_common as fc
from bot.core import appointments, entitlements, facts, people

# Reason codes → responses (literal names, so the data validator sees them used).
INVALID_MOBILE = {
    "empty": "utter_invalid_mobile_empty",
    "bad_format": "utter_invalid_mobile_bad_format",
    "not_mobile": "utter_invalid_mobile_not_mobile",
}
# Slots a message's facts fill (bot.core.facts), in the order the booking asks them.
FACT_SLOTS = (
    ("veteran_category", facts.CATEGORY),
    ("district", facts.DISTRICT),
    ("person_name", facts.NAME),
    ("mobile", facts.PHONE),
)
# Facts that a later message may only change when the user says it corrects them ("名字写错了"),
# or at the summary: words like "退伍" or a name-like clause are too loose to overwrite an answer.
_CHANGED_ONLY_WHEN_CORRECTED = {facts.NAME, facts.CATEGORY}


def canonical_category(text: str | None) -> str | None:
    """A category name (or alias, or a colloquial phrase) found in ``text``, canonical, else
    None."""
    if not text:
        return None
    value = entitlements.canonical_category(str(text))
    if value in entitlements.VETERAN_CATEGORIES:
        return value
    return facts.find_category(str(text))


def message_facts(tracker: Tracker) -> facts.Facts:
    """The facts the user's latest message gives (none for a button payload)."""
    if fc.is_payload(tracker):
        return facts.Facts()
    return facts.find(fc.latest_text(tracker), today=fc.local_now().date())


def fact_values(tracker: Tracker, slots: list[str]) -> dict[str, Any]:
    """Slot values for the facts of the latest message that ``slots`` (the form's questions)
    hold, where they fill an empty slot or change one: every fact given is kept, whatever the
    question was. The form's validators check them like any answer."""
    if fc.is_protected(tracker):
        return {}
    found = message_facts(tracker)
    at_summary = tracker.get_slot("requested_slot") in CONFIRMATION_SLOTS
    values = {
        facts.CATEGORY: found.category,
        facts.DISTRICT: found.district,
        facts.NAME: found.name,
        facts.PHONE: found.phone,
    }
    result: dict[str, Any] = {}
    for slot, key in FACT_SLOTS:
        value = values[key]
        if slot not in slots or not value:
            continue
        current = tracker.get_slot(slot)
        if (
            current in (None, "")
            or str(current) != value
            and (key not in _CHANGED_ONLY_WHEN_CORRECTED or key in found.corrected or at_summary)
        ):
            result[slot] = value
    return result


# The questions at which a form shows its summary (a fact given there is a correction).
CONFIRMATION_SLOTS = frozenset({"appointment_confirmed"})


def validate_category_value(
    value: Any, dispatcher: CollectingDispatcher, tracker: Tracker
) -> dict[str, Any]:
    category = canonical_category(fc.latest_entity(tracker, "veteran_category") or value)
    if category is None:
        fc.utter(dispatcher, tracker, "utter_invalid_veteran_category")
    return {"veteran_category": category}


def validate_district_value(
    value: Any, dispatcher: CollectingDispatcher, tracker: Tracker
) -> dict[str, Any]:
    # the district the message names and does not deny ("在崂山 不是李沧"), else the entity
    named = message_facts(tracker).district
    centre = appointments.find_centre_by_district(
        named or fc.latest_entity(tracker, "district") or str(value or "")
    )
    if centre is None:
        fc.utter(dispatcher, tracker, "utter_invalid_district")
        return {"district": None, "centre_id": None}
    return {"district": centre.district, "centre_id": centre.id}


def validate_mobile_value(
    value: Any, dispatcher: CollectingDispatcher, tracker: Tracker
) -> dict[str, Any]:
    """A contact number: a mobile or a landline (people.validate_phone), typed with spaces,
    dashes, +86 or spoken as numerals ("一三八…", 幺 = 1), found anywhere in the answer."""
    answering = fc.answering(tracker, "mobile") and not fc.is_payload(tracker)
    text = unicodedata.normalize("NFKC", fc.latest_text(tracker) if answering else str(value or ""))
    phone = facts.find_phone(text)
    if phone is not None:
        return {"mobile": phone}
    if answering:
        found = message_facts(tracker)
        if found.found or found.corrected:
            return {"mobile": None}  # the message answered something else; ask again quietly
    digits = facts.spoken_digits(text)
    try:
        phone = people.validate_phone(digits)
    except people.InvalidMobile as error:
        fc.utter(
            dispatcher, tracker, INVALID_MOBILE.get(error.code, "utter_invalid_mobile_bad_format")
        )
        return {"mobile": None}
    return {"mobile": phone}


def validate_person_name_value(
    value: Any, dispatcher: CollectingDispatcher, tracker: Tracker
) -> dict[str, Any]:
    """A person's name: the answer to the name question with fillers stripped ("嗯 刘洋",
    "我叫宋春生吧"), or a name found among other facts. Words and gibberish ("等会", "aaaasss")
    are refused kindly; a message that answers something else (a correction) is not a name."""
    answering = fc.answering(tracker, "person_name") and not fc.is_payload(tracker)
    if not answering:
        name = facts.answer_name(str(value or ""))
        return {"person_name": name}
    text = fc.latest_text(tracker)
    name = facts.answer_name(text)
    if name is None and message_facts(tracker).corrected:
        return {"person_name": None}
    if name is None:
        found = message_facts(tracker)
        if found.found:
            return {"person_name": None}  # other facts were kept; the name is asked again
        if facts.asks_to_wait(text):
            fc.utter(dispatcher, tracker, "utter_person_name_wait")
        else:
            fc.utter(dispatcher, tracker, "utter_invalid_person_name")
    return {"person_name": name}


def validate_yes_no(
    slot: str, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker
) -> dict[str, Any]:
    """A yes/no question of a form: True or False, or None (asked again) when unclear."""
    if not fc.answering(tracker, slot):
        return {slot: value}
    answer = fc.yes_no(tracker)
    if answer is None:
        fc.utter(dispatcher, tracker, "utter_please_yes_no")
    return {slot: answer}
