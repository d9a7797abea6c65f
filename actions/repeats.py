""" "怎么又问，刚才不是说了吗": a complaint about being asked again is answered, never taken as a
cancel or as the answer.

Inside a form the bot says sorry, repeats what it has recorded so far (masked, as on the booking
summary) and the form's rule then asks only the question still open; the form keeps everything.
Outside a form it says sorry and says how to go on. Rules: nlu_data/rules/forms.yml (written
by ``make rules`` from bot/dialogue_rules.py) and nlu_data/rules/social.yml.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import forms_common as fc


def recorded(tracker: Tracker, domain: dict[str, Any], form: str) -> list[str]:
    """What the form has recorded so far, in the order it asks, ready to show."""
    return fc.shown_values(
        domain, [(slot, tracker.get_slot(slot)) for slot in fc.form_slots(domain, form)]
    )


def _said_just_before(tracker: Tracker, intent: str) -> bool:
    """Whether the user message before the latest one had ``intent``."""
    parse_data = fc.previous_user_message(tracker).get("parse_data") or {}
    return (parse_data.get("intent") or {}).get("name") == intent


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
