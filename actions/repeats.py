""" "怎么又问，刚才不是说了吗": a complaint about being asked again is answered, never taken as a
cancel or as the answer.

Inside a form the bot says sorry, repeats what it has recorded so far (masked, as on the booking
summary) and the form's rule then asks only the question still open; the form keeps everything.
Outside a form it says sorry and says how to go on. Rules: nlu_data/rules/forms.yml (written
by ``make rules`` from bot/dialogue_rules.py) and nlu_data/rules/social.yml.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import forms_common as fc
from bot.core import people

# A recorded free text longer than this is shortened in the recap (a wish's description).
RECAP_TEXT_CHARS = 16
# The slots a recap shows, and how: what the user gave, never a clear ID or phone number.
# Yes/no answers, confirmations and consents are left out: they are not facts the user typed.
Display = Callable[[dict[str, Any], Any], str]


def _text(domain: dict[str, Any], value: Any) -> str:
    text = str(value).strip()
    return text if len(text) <= RECAP_TEXT_CHARS else text[:RECAP_TEXT_CHARS] + "…"


def _when(domain: dict[str, Any], value: Any) -> str:
    moment = fc.parse_iso(value)
    return fc.fmt_when(domain, moment) if moment else ""


def _day(domain: dict[str, Any], value: Any) -> str:
    day = fc.parse_iso_date(value)
    return fc.fmt_date(domain, day) if day else ""


def _phone(domain: dict[str, Any], value: Any) -> str:
    return people.mask_phone(str(value))


def _id_number(domain: dict[str, Any], value: Any) -> str:
    try:
        return people.mask_id(people.decrypt_id(str(value)))
    except Exception:  # a token from an older key: say nothing rather than something wrong
        return ""


RECAP: dict[str, Display] = {
    "veteran_category": _text,
    "district": _text,
    "appointment_time": _when,
    "person_name": _text,
    "mobile": _phone,
    "id_number": _id_number,
    "discharge_date": _day,
    "lookup_code": _text,
    "wish_category": _text,
    "wish_description": _text,
    "job_skills": _text,
    "job_desired": _text,
}


def recorded(tracker: Tracker, domain: dict[str, Any], form: str) -> list[str]:
    """What the form has recorded so far, in the order it asks, ready to show."""
    shown = []
    for slot in fc.form_slots(domain, form):
        value = tracker.get_slot(slot)
        display = RECAP.get(slot)
        if display is None or value in (None, "", fc.UNKNOWN):
            continue
        text = display(domain, value)
        if text:
            shown.append(text)
    return shown


def _said_just_before(tracker: Tracker, intent: str) -> bool:
    """Whether the user message before the latest one had ``intent``."""
    users = [event for event in tracker.events if event.get("event") == "user"]
    if len(users) < 2:
        return False
    return ((users[-2].get("parse_data") or {}).get("intent") or {}).get("name") == intent


class ActionAcknowledgeRepeat(Action):
    """Sorry, here is what I have; the form (if any) then asks the one question still open."""

    def name(self) -> str:
        return "action_acknowledge_repeat"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        form = (tracker.active_loop or {}).get("name")
        if _said_just_before(tracker, "complain_repeated"):
            # The recap did not help: never the same answer twice, and a person can take over.
            fc.utter(dispatcher, tracker, "utter_sorry_for_repeating_again")
            return []
        if not form:
            fc.utter(dispatcher, tracker, "utter_sorry_for_repeating")
            return []
        facts = recorded(tracker, domain, form)
        if facts:
            fc.utter(dispatcher, tracker, "utter_sorry_for_repeating_recap", recap="，".join(facts))
        else:
            fc.utter(dispatcher, tracker, "utter_sorry_for_repeating_in_form")
        return []
