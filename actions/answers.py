"""Informational answers: knowledge topics and 荣军矩阵 programme details, from data files."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.replies import (
    benefit_payload,
    latest_entity,
    latest_intent,
    say,
    user_script,
    utter_programme_details,
)
from bot.core import appointments, entitlements, knowledge
from bot.core.script import to_script


def followup_buttons(followups: list[dict[str, str]]) -> list[dict[str, str]]:
    return [{"title": item["title"], "payload": item["payload"]} for item in followups or []]


class ActionAnswerQuestion(Action):
    """Answers the latest informational intent from knowledge.yml."""

    def name(self) -> str:
        return "action_answer_question"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        found = knowledge.answer(latest_intent(tracker) or "")
        if found is None:
            dispatcher.utter_message(response="utter_default")
            return []
        text, _source, followups = found
        say(dispatcher, tracker, text, followup_buttons(followups))
        if latest_intent(tracker) == "ask_contact":
            say_service_centres(dispatcher, tracker, domain)
        return []


def say_service_centres(
    dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
) -> None:
    """The user's district service centre (all of them when the district is unknown), from
    service_centres.yml and deployment.yml; an address or phone not configured yet reads as the
    deployment file's fallback wording, and a note says so."""
    from actions.forms_common import domain_text

    district = latest_entity(tracker, "district")
    centre = appointments.find_centre_by_district(district) if district else None
    centres = [centre] if centre else appointments.load_centres()
    if not centres:
        return
    lines = [
        domain_text(
            domain,
            "utter_contact_centre_line",
            name=item.name,
            address=item.address_text,
            phone=item.phone_text,
            hours="、".join(f"{start:%H:%M}-{end:%H:%M}" for start, end in item.hours),
        )
        for item in centres
    ]
    if not all(item.is_configured("address") and item.is_configured("phone") for item in centres):
        lines.append(domain_text(domain, "utter_contact_placeholder_note"))
    heading = (
        domain_text(domain, "utter_contact_heading_district", district=centre.district)
        if centre
        else domain_text(domain, "utter_contact_heading_all")
    )
    say(
        dispatcher,
        tracker,
        domain_text(domain, "utter_contact_centres", heading=heading, lines="\n".join(lines)),
    )


class ActionExplainBenefit(Action):
    """What one programme gives, who qualifies, how and where to apply — or which one?"""

    def name(self) -> str:
        return "action_explain_benefit"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        name = latest_entity(tracker, "benefit")
        programme = entitlements.programme_by_name(name) if name else None
        if programme is None:
            script = user_script(tracker)  # buttons added to a response bypass the NLG
            buttons = [
                {"title": to_script(item.name, script), "payload": benefit_payload(item.name)}
                for item in entitlements.load_catalogue()
                if item.kind == "荣军矩阵"
            ]
            dispatcher.utter_message(response="utter_ask_which_benefit", buttons=buttons)
            return []
        utter_programme_details(dispatcher, programme)
        return [SlotSet("benefit", programme.name)]
