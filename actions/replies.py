"""Sending text built at run time in the script the user wrote.

Domain responses are converted by the Rasa server's NLG (bot/nlg.py); text an action assembles
from data files (programme details, knowledge answers) is converted here with the same rule.
"""

from __future__ import annotations

import json
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.core import appointments, entitlements
from bot.core.script import conversation_script, to_script


def user_script(tracker: Tracker) -> str:
    """TRADITIONAL or SIMPLIFIED: the script of the user's latest decisive message."""
    return conversation_script(
        event.get("text") for event in reversed(tracker.events) if event.get("event") == "user"
    )


def say(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    text: str,
    buttons: list[dict[str, Any]] | None = None,
) -> None:
    """Utter ``text`` (authored in Simplified) and button titles in the user's script."""
    script = user_script(tracker)
    dispatcher.utter_message(
        text=to_script(text, script),
        buttons=[
            {**button, "title": to_script(button["title"], script)} for button in buttons or []
        ],
    )


def latest_intent(tracker: Tracker) -> str | None:
    return (tracker.latest_message.get("intent") or {}).get("name")


def latest_entity(tracker: Tracker, entity: str) -> str | None:
    """The entity's value in the latest message, else the slot of the same name."""
    value = next(tracker.get_latest_entity_values(entity), None)
    return value or tracker.get_slot(entity)


def benefit_payload(name: str) -> str:
    """The button payload that asks about one programme (answered by action_explain_benefit)."""
    return "/ask_benefit" + json.dumps({"benefit": name}, ensure_ascii=False)


def utter_programme_details(
    dispatcher: CollectingDispatcher, programme: entitlements.Programme
) -> None:
    """One programme's details (utter_benefit_details; the NLG converts the script)."""
    parts = entitlements.details(programme)
    dispatcher.utter_message(
        response="utter_benefit_details",
        name=programme.name,
        summary=parts["summary"],
        gives=parts["gives"].strip(),
        eligibility=parts["eligibility_text"].strip(),
        how_to_apply=parts["how_to_apply"].strip(),
        where=parts["where"].strip(),
        documents=parts["documents_text"],
        source=parts["source"],
    )


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
